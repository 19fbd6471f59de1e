import { randomBytes } from 'node:crypto';
import type { StoredEvent } from './stored-event.ts';

/** Attributes sent as their own HTTP headers rather than `ce-*`: the content type and the W3C trace context. */
const NON_CE_ATTRIBUTES: ReadonlySet<string> = new Set(['datacontenttype', 'traceparent', 'tracestate']);

/** W3C Trace Context `traceparent`: version, trace id, parent id and flags in lower-case hex. */
const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** Values made only of printable US-ASCII other than space, `"` and `%` need no encoding. */
const HEADER_SAFE = /^[\x21\x23\x24\x26-\x7e]*$/;

function isPrintableAscii(value: string): boolean {
  return /^[\x20-\x7e]*$/.test(value);
}

/**
 * Percent-encode a header value as the CloudEvents HTTP binding requires (§3.1.3.2): space, `"`,
 * `%` and every character outside printable US-ASCII become `%XX` per UTF-8 byte.
 */
export function percentEncodeHeaderValue(value: string): string {
  if (HEADER_SAFE.test(value)) {
    return value;
  }
  let encoded = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const printable = byte > 0x20 && byte < 0x7f && byte !== 0x22 && byte !== 0x25;
    encoded += printable ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return encoded;
}

/** Make a W3C `traceparent` (version 00, sampled) with a random trace id and span id. */
export function createTraceparent(): string {
  const hex = randomBytes(24).toString('hex');
  return `00-${hex.slice(0, 32)}-${hex.slice(32)}-01`;
}

/**
 * Build the headers of a binary-mode CloudEvent (CloudEvents HTTP binding §3.1): every attribute as
 * `ce-<name>`, the data's `Content-Type`, and a `traceparent` (the stored one, or a new one).
 */
export function toBinaryHeaders(event: StoredEvent): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.attributes)) {
    if (!NON_CE_ATTRIBUTES.has(name)) {
      headers[`ce-${name}`] = percentEncodeHeaderValue(value);
    }
  }
  if (event.contentType !== undefined) {
    headers['content-type'] = isPrintableAscii(event.contentType) ? event.contentType : 'application/octet-stream';
  }
  const traceparent = event.attributes.traceparent;
  headers.traceparent = traceparent !== undefined && TRACEPARENT.test(traceparent) ? traceparent : createTraceparent();
  const tracestate = event.attributes.tracestate;
  if (tracestate !== undefined && isPrintableAscii(tracestate)) {
    headers.tracestate = tracestate;
  }
  return headers;
}
