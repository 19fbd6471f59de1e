import type { IncomingHttpHeaders } from 'node:http';
import { InputError } from '../../shared/errors/errors.ts';

/** The CloudEvent handed to a Function's `main`: the attributes, the extensions and the decoded data. */
export type FunctionEvent = {
  id: string;
  type: string;
  source: string;
  specversion: string;
  time?: string;
  subject?: string;
  datacontenttype?: string;
  /** Parsed JSON for JSON content types, text for `text/*`, otherwise a Buffer. */
  data?: unknown;
  [extension: string]: unknown;
};

const STRUCTURED_MEDIA_TYPE = 'application/cloudevents+json';

function mediaTypeOf(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

function isJson(mediaType: string): boolean {
  return mediaType === 'application/json' || mediaType === 'text/json' || mediaType.endsWith('+json');
}

/** Decode a percent-encoded `ce-*` header value (CloudEvents HTTP binding §3.1.3.2). Invalid UTF-8 is rejected. */
export function percentDecodeHeaderValue(name: string, value: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    if (value[i] === '%' && /^[0-9A-Fa-f]{2}$/.test(value.slice(i + 1, i + 3))) {
      bytes.push(Number.parseInt(value.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(value.charCodeAt(i) & 0xff);
    }
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bytes));
  } catch (error) {
    throw new InputError(`header ${name} is not valid percent-encoded UTF-8`, { cause: error });
  }
}

function decodeData(body: Buffer, mediaType: string, contentType: string | undefined): unknown {
  if (body.length === 0) {
    return undefined;
  }
  if (contentType === undefined || isJson(mediaType)) {
    try {
      return JSON.parse(body.toString('utf8'));
    } catch (error) {
      throw new InputError('event data is not valid JSON although the content type is JSON', { cause: error });
    }
  }
  return mediaType.startsWith('text/') ? body.toString('utf8') : body;
}

function assertRequired(event: Record<string, unknown>): FunctionEvent {
  for (const name of ['id', 'type', 'source', 'specversion']) {
    if (typeof event[name] !== 'string' || event[name] === '') {
      throw new InputError(`CloudEvent attribute '${name}' is missing`);
    }
  }
  if (event.specversion !== '1.0') {
    throw new InputError(`CloudEvent specversion must be "1.0", got ${JSON.stringify(event.specversion)}`);
  }
  return event as FunctionEvent;
}

function fromStructured(body: Buffer): FunctionEvent {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new InputError('structured CloudEvent is not valid JSON', { cause: error });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new InputError('structured CloudEvent must be a JSON object');
  }
  const event = { ...(parsed as Record<string, unknown>) };
  if (typeof event.data_base64 === 'string') {
    event.data = Buffer.from(event.data_base64, 'base64');
    delete event.data_base64;
  }
  return assertRequired(event);
}

function fromBinary(headers: IncomingHttpHeaders, body: Buffer): FunctionEvent {
  const event: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith('ce-') && typeof value === 'string') {
      event[name.slice(3)] = percentDecodeHeaderValue(name, value);
    }
  }
  const contentType = headers['content-type'];
  if (contentType !== undefined) {
    event.datacontenttype = contentType;
  }
  if (typeof headers.traceparent === 'string') {
    event.traceparent = headers.traceparent;
  }
  const data = decodeData(body, mediaTypeOf(contentType), contentType);
  if (data !== undefined) {
    event.data = data;
  }
  return assertRequired(event);
}

/** Read a CloudEvent from an HTTP request in binary or structured mode (CloudEvents HTTP binding §3.1 and §3.2). */
export function toFunctionEvent(headers: IncomingHttpHeaders, body: Buffer): FunctionEvent {
  return mediaTypeOf(headers['content-type']) === STRUCTURED_MEDIA_TYPE ? fromStructured(body) : fromBinary(headers, body);
}
