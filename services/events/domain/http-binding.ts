/**
 * CloudEvents HTTP protocol binding 1.0.2, receiving side: content mode detection (§3), binary mode
 * (§3.1), structured mode (§3.2) and batched mode (§3.3).
 *
 * NOTE: the `cloudevents` SDK's `HTTP.toEvent` is not used because it breaks rules this service must
 * follow: it does not percent-decode `ce-` headers, detects binary mode by `ce-id` instead of by
 * `Content-Type`, matches media types case-sensitively, rewrites `time`, generates a missing `id`,
 * turns `data_base64` into a `Uint32Array`, and validates a batch only partly.
 */
import { isUtf8 } from 'node:buffer';
import type { StoredCloudEvent } from '../../../shared/events/stored-event.ts';
import { parseBinaryEvent, parseStructuredEvent, readSpecVersion } from './cloudevent.ts';
import { HeaderValueError, decodeHeaderValue } from './header-value.ts';
import { InvalidEventError, describeJsonType } from './invalid-event-error.ts';
import { arrayElementStarts, rawMemberText, valueStart } from './json-spans.ts';

export const ContentMode = { Binary: 'binary', Structured: 'structured', Batch: 'batch' } as const;
export type ContentMode = (typeof ContentMode)[keyof typeof ContentMode];

export const STRUCTURED_MEDIA_TYPE = 'application/cloudevents+json';
export const BATCH_MEDIA_TYPE = 'application/cloudevents-batch+json';

/** The parts of an HTTP request that carry events. */
export type HttpEventMessage = {
  /** Header names and values as they arrived, alternating, as in `IncomingMessage.rawHeaders`. */
  rawHeaders: readonly string[];
  contentType: string | undefined;
  body: Buffer;
};

/** Pick the content mode from `Content-Type` (§3): media type, parameters ignored, case-insensitive. */
export function detectContentMode(contentType: string | undefined): ContentMode {
  if (contentType === undefined) {
    return ContentMode.Binary;
  }
  const semicolon = contentType.indexOf(';');
  const essence = (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
  if (essence === STRUCTURED_MEDIA_TYPE) {
    return ContentMode.Structured;
  }
  return essence === BATCH_MEDIA_TYPE ? ContentMode.Batch : ContentMode.Binary;
}

/** True when a header name starts with `ce-` in any case. Cheaper than a regular expression on the hot path. */
function isCloudEventsHeader(name: string): boolean {
  return (
    name.length > 3 &&
    (name.charCodeAt(0) | 0x20) === 0x63 &&
    (name.charCodeAt(1) | 0x20) === 0x65 &&
    name.charCodeAt(2) === 0x2d
  );
}

/** Collect the `ce-` headers as attributes (§3.1.3.1): names lower-cased, values decoded (§3.1.3.2). */
function readCloudEventsHeaders(rawHeaders: readonly string[]): Map<string, unknown> {
  const members = new Map<string, unknown>();
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const header = rawHeaders[i]!;
    if (!isCloudEventsHeader(header)) {
      continue;
    }
    const name = header.slice(3).toLowerCase();
    if (members.has(name)) {
      throw new InvalidEventError(name, `must be sent once, got more than one ce-${name} header`);
    }
    try {
      members.set(name, decodeHeaderValue(rawHeaders[i + 1]!));
    } catch (error) {
      if (error instanceof HeaderValueError) {
        throw new InvalidEventError(name, `header value ${error.message}`, { cause: error });
      }
      throw error;
    }
  }
  return members;
}

/** Parse a JSON body, returning its text too so that raw data can be cut out of it. */
function parseJsonBody(body: Buffer): { text: string; value: unknown } {
  if (!isUtf8(body)) {
    throw new InvalidEventError('body', 'is not valid UTF-8');
  }
  const text = body.toString('utf8');
  try {
    return { text, value: JSON.parse(text) as unknown };
  } catch (error) {
    throw new InvalidEventError('body', `is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
}

function asEventObject(value: unknown, attribute: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidEventError(attribute, `must be a JSON object, got ${describeJsonType(value)}`);
  }
  return value as Record<string, unknown>;
}

/**
 * Parse a batch (§3.3, JSON batch format §4). All or nothing: the first invalid event rejects the
 * whole batch, naming its index. Every event must have the first event's `specversion` (§3.3.2).
 * An empty batch is valid and contains no events.
 */
function parseBatch(body: Buffer): StoredCloudEvent[] {
  const { text, value: parsed } = parseJsonBody(body);
  if (!Array.isArray(parsed)) {
    throw new InvalidEventError('body', `must be a JSON array of events, got ${describeJsonType(parsed)}`);
  }

  const starts = arrayElementStarts(text, valueStart(text));
  let batchVersion: string | undefined;
  return parsed.map((element: unknown, index) => {
    try {
      const object = asEventObject(element, 'event');
      const version = readSpecVersion(new Map([['specversion', object.specversion]]));
      batchVersion ??= version;
      if (version !== batchVersion) {
        throw new InvalidEventError('specversion', `must be "${batchVersion}" like the first event of the batch, got "${version}"`);
      }
      return parseStructuredEvent(object, rawMemberText(text, starts[index]!, 'data'));
    } catch (error) {
      throw error instanceof InvalidEventError ? error.inBatch(index) : error;
    }
  });
}

/**
 * Parse the events of one HTTP request. Throws `InvalidEventError` naming the first broken rule.
 * Binary mode requires `ce-specversion`; its `Content-Type` becomes `datacontenttype`.
 */
export function parseHttpEvents(message: HttpEventMessage): StoredCloudEvent[] {
  switch (detectContentMode(message.contentType)) {
    case ContentMode.Structured: {
      const { text, value } = parseJsonBody(message.body);
      return [parseStructuredEvent(asEventObject(value, 'body'), rawMemberText(text, valueStart(text), 'data'))];
    }
    case ContentMode.Batch:
      return parseBatch(message.body);
    case ContentMode.Binary:
      return [parseBinaryEvent(readCloudEventsHeaders(message.rawHeaders), message.contentType, message.body)];
  }
}
