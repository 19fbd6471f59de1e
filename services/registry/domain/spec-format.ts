import { parse as parseYaml } from 'yaml';
import { MAX_JSON_DEPTH, exceedsJsonDepth } from './json-depth.ts';

/** Spec formats the registry recognizes. `json` is any other JSON object, accepted only inline. */
export const SpecFormat = {
  OpenApi3: 'openapi3',
  Swagger2: 'swagger2',
  ODataEdmx: 'odata-edmx',
  AsyncApi1: 'asyncapi1',
  AsyncApi2: 'asyncapi2',
  Json: 'json',
} as const;
export type SpecFormat = (typeof SpecFormat)[keyof typeof SpecFormat];

/** A spec ready to store: a JSON document, or the XML text of an OData EDMX document. */
export type ParsedSpec =
  | { format: Exclude<SpecFormat, typeof SpecFormat.ODataEdmx>; document: Record<string, unknown> }
  | { format: typeof SpecFormat.ODataEdmx; text: string };

/** Maximum YAML aliases in one document, which bounds "billion laughs" expansion. */
const MAX_YAML_ALIASES = 100;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Tell the format of a JSON spec from its version field (`openapi`, `swagger`, `asyncapi`). */
export function detectJsonFormat(document: Record<string, unknown>): Exclude<SpecFormat, typeof SpecFormat.ODataEdmx> {
  const version = (field: string): string => {
    const value = document[field];
    return typeof value === 'string' ? value : '';
  };

  if (version('openapi').startsWith('3.')) {
    return SpecFormat.OpenApi3;
  }
  if (version('swagger') === '2.0') {
    return SpecFormat.Swagger2;
  }
  if (version('asyncapi').startsWith('1.')) {
    return SpecFormat.AsyncApi1;
  }
  if (version('asyncapi').startsWith('2.')) {
    return SpecFormat.AsyncApi2;
  }
  return SpecFormat.Json;
}

/** True for the two AsyncAPI formats, the ones an event catalog is read from. */
export function isAsyncApiFormat(format: SpecFormat): format is typeof SpecFormat.AsyncApi1 | typeof SpecFormat.AsyncApi2 {
  return format === SpecFormat.AsyncApi1 || format === SpecFormat.AsyncApi2;
}

/** Options of every YAML parse of a spec, on the main thread or a worker. */
export const YAML_PARSE_OPTIONS = Object.freeze({ maxAliasCount: MAX_YAML_ALIASES });

/** Detect the syntax of a spec text from its first character: `<` is XML, `{` is JSON, anything else YAML. */
export function detectSpecSyntax(text: string): 'xml' | 'json' | 'yaml' {
  const trimmed = text.replace(/^\uFEFF/, '').trimStart();
  if (trimmed.startsWith('<')) {
    return 'xml';
  }
  return trimmed.startsWith('{') ? 'json' : 'yaml';
}

/** Describe a JSON or YAML parse failure for a spec, with the first line of the parser's message. */
export function describeParseFailure(message: string): string {
  return `the document is neither valid JSON nor valid YAML (${message.split('\n')[0]})`;
}

/**
 * Parse a spec fetched from a URL: OData EDMX as XML, otherwise JSON or YAML. Returns the reason as
 * a string when the text is no spec the registry recognizes. YAML is parsed on the calling thread.
 */
export function parseSpecText(text: string): ParsedSpec | string {
  const syntax = detectSpecSyntax(text);
  if (syntax === 'xml') {
    return /<(\w+:)?Edmx[\s>]/.test(text) ? { format: SpecFormat.ODataEdmx, text } : 'the XML document is not an OData EDMX document';
  }

  let document: unknown;
  try {
    const trimmed = text.replace(/^\uFEFF/, '');
    document = syntax === 'json' ? JSON.parse(trimmed) : parseYaml(trimmed, YAML_PARSE_OPTIONS);
  } catch (error) {
    return describeParseFailure(error instanceof Error ? error.message : 'parse error');
  }
  return toParsedSpec(document);
}

/** Check a parsed JSON or YAML spec: an object of a known format, nested at most `MAX_JSON_DEPTH` levels. */
export function toParsedSpec(document: unknown): ParsedSpec | string {
  if (!isObject(document)) {
    return 'the document is not a JSON or YAML object';
  }
  if (exceedsJsonDepth(document)) {
    return `the document nests deeper than ${MAX_JSON_DEPTH} levels`;
  }

  const format = detectJsonFormat(document);
  if (format === SpecFormat.Json) {
    return 'the document is not OpenAPI 3.x, Swagger 2.0, AsyncAPI 1.x or 2.x';
  }
  return { format, document };
}
