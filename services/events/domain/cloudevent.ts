/**
 * Validation of one CloudEvent and its conversion to the stored 1.0 form. Follows CloudEvents 1.0
 * (attributes, type system), the JSON format §3 (data handling) and, for version 0.3, maps
 * `schemaurl` to `dataschema` and base64 `data` to `data_base64`.
 */
import { isUtf8 } from 'node:buffer';
import type { CloudEventAttributeValue, CloudEventData, StoredCloudEvent } from '../../../shared/events/stored-event.ts';
import {
  isAbsoluteUri,
  isAttributeName,
  isBase64,
  isCloudEventsInteger,
  isCloudEventsString,
  isJsonMediaType,
  isRfc3339Timestamp,
  isUriReference,
} from './attribute-rules.ts';
import { InvalidEventError, describeJsonType, quoteForMessage } from './invalid-event-error.ts';

export const SpecVersion = { V1: '1.0', V03: '0.3' } as const;
export type SpecVersion = (typeof SpecVersion)[keyof typeof SpecVersion];

/** Attributes that are not extensions, by spec version. */
const CONTEXT_ATTRIBUTES: Readonly<Record<SpecVersion, ReadonlySet<string>>> = {
  '1.0': new Set(['specversion', 'id', 'source', 'type', 'datacontenttype', 'dataschema', 'subject', 'time']),
  '0.3': new Set(['specversion', 'id', 'source', 'type', 'datacontenttype', 'datacontentencoding', 'schemaurl', 'subject', 'time']),
};

/** Members of a structured 1.0 event that hold the data rather than an attribute. */
const DATA_MEMBERS = new Set(['data', 'data_base64']);

/** Attributes and members by name. In structured mode `null` means absent (JSON format §2.2). */
export type EventMembers = ReadonlyMap<string, unknown>;

/** Read and check `specversion`, which decides every other rule. */
export function readSpecVersion(members: EventMembers): SpecVersion {
  const value = members.get('specversion');
  if (value === undefined || value === null) {
    throw new InvalidEventError('specversion', 'is required');
  }
  if (typeof value !== 'string') {
    throw new InvalidEventError('specversion', `must be a string, got ${describeJsonType(value)}`);
  }
  if (value !== SpecVersion.V1 && value !== SpecVersion.V03) {
    throw new InvalidEventError('specversion', `must be "1.0" or "0.3", got ${quoteForMessage(value)}`);
  }
  return value;
}

function assertNames(members: EventMembers, dataMembers: ReadonlySet<string>): void {
  for (const name of members.keys()) {
    if (dataMembers.has(name)) {
      continue;
    }
    if (name === 'data') {
      throw new InvalidEventError(name, 'is reserved for the event data and cannot be an attribute');
    }
    if (!isAttributeName(name)) {
      throw new InvalidEventError(name, 'is not a valid attribute name: use lower-case letters a-z and digits 0-9 only');
    }
  }
}

function readString(name: string, value: unknown, options: { required: boolean }): string | undefined {
  if (value === undefined || value === null) {
    if (options.required) {
      throw new InvalidEventError(name, 'is required');
    }
    return undefined;
  }
  if (typeof value !== 'string') {
    throw new InvalidEventError(name, `must be a string, got ${describeJsonType(value)}`);
  }
  if (value === '') {
    throw new InvalidEventError(name, 'must not be empty');
  }
  if (!isCloudEventsString(value)) {
    throw new InvalidEventError(name, 'must not contain control characters or unpaired surrogates');
  }
  return value;
}

function readExtension(name: string, value: unknown): CloudEventAttributeValue {
  if (typeof value === 'string') {
    if (!isCloudEventsString(value)) {
      throw new InvalidEventError(name, 'must not contain control characters or unpaired surrogates');
    }
    return value;
  }
  if (typeof value === 'boolean') {
    return value;
  }
  if (typeof value === 'number' && isCloudEventsInteger(value)) {
    return value;
  }
  const got = typeof value === 'number' ? `${value}` : describeJsonType(value);
  throw new InvalidEventError(name, `must be a string, a boolean or a 32-bit integer, got ${got}`);
}

/**
 * Check every attribute and return them in stored order: `id`, `source`, `type`, then the rest as
 * they came. In 0.3 `schemaurl` becomes `dataschema` and `datacontentencoding` is left to the data step.
 */
function readAttributes(members: EventMembers, version: SpecVersion, dataMembers: ReadonlySet<string>): Record<string, CloudEventAttributeValue> {
  const id = readString('id', members.get('id'), { required: true })!;
  const source = readString('source', members.get('source'), { required: true })!;
  if (!isUriReference(source)) {
    throw new InvalidEventError('source', `must be a URI reference (RFC 3986), got ${quoteForMessage(source)}`);
  }
  const type = readString('type', members.get('type'), { required: true })!;
  const attributes: Record<string, CloudEventAttributeValue> = { id, source, type };

  const schemaName = version === SpecVersion.V03 ? 'schemaurl' : 'dataschema';
  if (version === SpecVersion.V03 && members.get('dataschema') !== undefined && members.get('schemaurl') !== undefined) {
    throw new InvalidEventError('schemaurl', 'cannot be converted to dataschema because the event also has a dataschema extension');
  }

  for (const [name, value] of members) {
    if (value === null || dataMembers.has(name) || name === 'specversion' || name === 'id' || name === 'source' || name === 'type') {
      continue;
    }
    if (name === schemaName) {
      const schema = readString(name, value, { required: false })!;
      if (!isAbsoluteUri(schema)) {
        throw new InvalidEventError(name, `must be an absolute URI (RFC 3986), got ${quoteForMessage(schema)}`);
      }
      attributes.dataschema = schema;
    } else if (name === 'time') {
      const time = readString(name, value, { required: false })!;
      if (!isRfc3339Timestamp(time)) {
        throw new InvalidEventError(name, `must be an RFC 3339 timestamp with seconds and a valid offset, got ${quoteForMessage(time)}`);
      }
      attributes.time = time;
    } else if (CONTEXT_ATTRIBUTES[version].has(name)) {
      attributes[name] = readString(name, value, { required: false })!;
    } else {
      attributes[name] = readExtension(name, value);
    }
  }
  return attributes;
}

function decodeBase64Member(name: string, value: unknown): CloudEventData {
  if (typeof value !== 'string') {
    throw new InvalidEventError(name, `must be a base64 string, got ${describeJsonType(value)}`);
  }
  if (!isBase64(value)) {
    throw new InvalidEventError(name, 'is not valid base64 (RFC 4648 §4, with padding)');
  }
  return { kind: 'binary', bytes: Buffer.from(value, 'base64') };
}

/**
 * JSON format §3.1.2: JSON content types keep `data` as a JSON value, stored as `rawData` (its text as
 * received) when given. Any other type needs a string, stored as its UTF-8 bytes.
 */
function readStructuredData(
  members: EventMembers,
  attributes: Record<string, CloudEventAttributeValue>,
  version: SpecVersion,
  rawData: string | undefined,
): CloudEventData | undefined {
  const hasData = members.has('data');
  const data = members.get('data');

  if (version === SpecVersion.V03) {
    const encoding = attributes.datacontentencoding;
    delete attributes.datacontentencoding;
    if (encoding !== undefined) {
      if (typeof encoding !== 'string' || encoding.toLowerCase() !== 'base64') {
        throw new InvalidEventError('datacontentencoding', `must be "base64", got ${quoteForMessage(String(encoding))}`);
      }
      return hasData ? decodeBase64Member('data', data) : undefined;
    }
  } else {
    const base64 = members.get('data_base64');
    if (base64 !== undefined && base64 !== null) {
      if (hasData) {
        throw new InvalidEventError('data_base64', 'must not be combined with data: send one of them');
      }
      return decodeBase64Member('data_base64', base64);
    }
  }

  if (!hasData) {
    return undefined;
  }
  const contentType = attributes.datacontenttype;
  if (contentType === undefined || isJsonMediaType(String(contentType))) {
    return rawData === undefined ? { kind: 'json', value: data } : { kind: 'json-text', text: rawData };
  }
  if (typeof data !== 'string') {
    throw new InvalidEventError('data', `must be a string when datacontenttype ${quoteForMessage(String(contentType))} is not JSON, got ${describeJsonType(data)}`);
  }
  return { kind: 'binary', bytes: Buffer.from(data, 'utf8') };
}

/**
 * Convert one structured-mode JSON object (JSON format §3) into the stored form. `rawData` is the text
 * of its `data` member as received, which is stored in place of re-serialized JSON when given.
 */
export function parseStructuredEvent(object: Readonly<Record<string, unknown>>, rawData?: string): StoredCloudEvent {
  const members: EventMembers = new Map(Object.entries(object));
  const version = readSpecVersion(members);
  const dataMembers = version === SpecVersion.V1 ? DATA_MEMBERS : new Set(['data']);
  assertNames(members, dataMembers);

  const attributes = readAttributes(members, version, dataMembers);
  const data = readStructuredData(members, attributes, version, rawData);
  return data === undefined ? { attributes } : { attributes, data };
}

/** HTTP binding §3.1.2: the body is the data. JSON bodies must parse and are kept as text; anything else is kept as bytes. */
function readBinaryData(body: Buffer, contentType: string | undefined, encoding: CloudEventAttributeValue | undefined): CloudEventData | undefined {
  if (encoding !== undefined) {
    if (String(encoding).toLowerCase() !== 'base64') {
      throw new InvalidEventError('datacontentencoding', `must be "base64", got ${quoteForMessage(String(encoding))}`);
    }
    return decodeBase64Member('data', body.toString('latin1'));
  }
  if (body.length === 0) {
    return undefined;
  }
  if (!isJsonMediaType(contentType)) {
    return { kind: 'binary', bytes: body };
  }

  if (!isUtf8(body)) {
    throw new InvalidEventError('data', `is not valid UTF-8, which datacontenttype ${quoteForMessage(contentType!)} requires`);
  }
  const text = body.toString('utf8');
  try {
    JSON.parse(text);
  } catch (error) {
    throw new InvalidEventError('data', `is not valid JSON, which datacontenttype ${quoteForMessage(contentType!)} requires`, { cause: error });
  }
  return { kind: 'json-text', text };
}

/**
 * Convert one binary-mode event into the stored form. `members` contains the decoded `ce-` headers by
 * attribute name; `contentType` is the HTTP `Content-Type`, which becomes `datacontenttype` (§3.1.1).
 */
export function parseBinaryEvent(members: Map<string, unknown>, contentType: string | undefined, body: Buffer): StoredCloudEvent {
  const version = readSpecVersion(members);
  if (members.has('datacontenttype')) {
    throw new InvalidEventError('datacontenttype', 'must not be sent as a ce-datacontenttype header in binary mode: use Content-Type');
  }
  assertNames(members, new Set());
  if (contentType !== undefined) {
    members.set('datacontenttype', contentType);
  }

  const attributes = readAttributes(members, version, new Set());
  const encoding = attributes.datacontentencoding;
  if (version === SpecVersion.V03) {
    delete attributes.datacontentencoding;
  }
  const data = readBinaryData(body, contentType, version === SpecVersion.V03 ? encoding : undefined);
  return data === undefined ? { attributes } : { attributes, data };
}
