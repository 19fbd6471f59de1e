/**
 * The form in which an accepted CloudEvent is stored in the events stream, shared by the events
 * service (which writes it) and the dispatcher (which reads it).
 *
 * - The message body is the CloudEvent in the structured JSON format (CloudEvents JSON format §3):
 *   `specversion: "1.0"`, every attribute and extension as a top-level member, JSON data as `data`,
 *   and any other data (text, XML, binary) as `data_base64` of its exact bytes, so nothing is altered.
 * - Header `Nats-Msg-Id` is derived from (application, `source`, `id`), so JetStream drops a retried
 *   event within the stream's duplicate window.
 * - Header `Content-Type` is `application/cloudevents+json`.
 *
 * This module depends on node built-ins only, so any service can import it.
 */
import { createHash } from 'node:crypto';

/** Media type of the stored message body (CloudEvents JSON format §3). */
export const STORED_EVENT_CONTENT_TYPE = 'application/cloudevents+json';

/** The only spec version that is stored. Version 0.3 events are converted on ingress. */
export const STORED_SPEC_VERSION = '1.0';

/** NATS header names of a stored event message. */
export const STORED_EVENT_HEADERS = Object.freeze({
  messageId: 'Nats-Msg-Id',
  contentType: 'Content-Type',
} as const);

/** A CloudEvents attribute value in the JSON format: String, URI, Timestamp (strings), Integer or Boolean. */
export type CloudEventAttributeValue = string | number | boolean;

/** Context attributes and extensions by name, including `specversion`, `id`, `source` and `type`. */
export type CloudEventAttributes = Readonly<Record<string, CloudEventAttributeValue>>;

/**
 * The data of an event.
 * - `json`: a JSON value, stored as `data`.
 * - `json-text`: JSON text that is already serialized and known to be valid, stored as `data` byte for
 *   byte. The ingress uses it to store a JSON body exactly as it arrived. Decoding yields `json`.
 * - `binary`: any other bytes, stored as `data_base64`.
 */
export type CloudEventData =
  | { readonly kind: 'json'; readonly value: unknown }
  | { readonly kind: 'json-text'; readonly text: string }
  | { readonly kind: 'binary'; readonly bytes: Uint8Array };

/** A CloudEvent as it is stored: its attributes and, optionally, its data. */
export type StoredCloudEvent = {
  readonly attributes: CloudEventAttributes;
  readonly data?: CloudEventData;
};

/** A stored CloudEvent as read back. JSON data is parsed, so `json-text` never appears. */
export type DecodedCloudEvent = {
  readonly attributes: CloudEventAttributes;
  readonly data?: Exclude<CloudEventData, { kind: 'json-text' }>;
};

/** Raised by `decodeStoredEvent` when a message is not a stored event. */
export class StoredEventFormatError extends Error {
  readonly code = 'ERR_STORED_EVENT_FORMAT';

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StoredEventFormatError';
  }
}

const RESERVED_MEMBERS = new Set(['data', 'data_base64']);

/**
 * Derive the `Nats-Msg-Id` of an event: the SHA-256 hex of application, `source` and `id` joined with
 * NUL. CloudEvents strings exclude control characters, so distinct triples never join to the same
 * text. `application` is the sender's subject token, `_platform` for in-platform events.
 */
export function createStoredEventMessageId(application: string, source: string, id: string): string {
  return createHash('sha256').update(`${application}\u0000${source}\u0000${id}`).digest('hex');
}

/** Serialize an event into the stored message body. Throws when an attribute is named `data` or `data_base64`. */
export function encodeStoredEvent(event: StoredCloudEvent): Buffer {
  const members: Record<string, unknown> = { specversion: STORED_SPEC_VERSION };
  for (const [name, value] of Object.entries(event.attributes)) {
    if (RESERVED_MEMBERS.has(name)) {
      throw new StoredEventFormatError(`attribute name '${name}' is reserved for the event data`);
    }
    members[name] = value;
  }
  if (members.specversion !== STORED_SPEC_VERSION) {
    throw new StoredEventFormatError(`specversion must be '${STORED_SPEC_VERSION}', got '${String(members.specversion)}'`);
  }

  const data = event.data;
  if (data?.kind === 'binary') {
    members.data_base64 = Buffer.from(data.bytes.buffer, data.bytes.byteOffset, data.bytes.byteLength).toString('base64');
  } else if (data?.kind === 'json') {
    members.data = data.value;
  }
  const json = JSON.stringify(members);

  // Splicing keeps already-serialized JSON data exactly as it arrived and saves a parse and a stringify.
  if (data?.kind === 'json-text') {
    return Buffer.from(`${json.slice(0, -1)},"data":${data.text}}`, 'utf8');
  }
  return Buffer.from(json, 'utf8');
}

/** Parse a stored message body back into attributes and data. Throws `StoredEventFormatError` for anything else. */
export function decodeStoredEvent(body: Uint8Array): DecodedCloudEvent {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  } catch (error) {
    throw new StoredEventFormatError('stored event is not valid JSON', { cause: error });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new StoredEventFormatError('stored event must be a JSON object');
  }

  const members = parsed as Record<string, unknown>;
  if (members.specversion !== STORED_SPEC_VERSION) {
    throw new StoredEventFormatError(`stored event must have specversion '${STORED_SPEC_VERSION}'`);
  }

  const attributes: Record<string, CloudEventAttributeValue> = {};
  for (const [name, value] of Object.entries(members)) {
    if (RESERVED_MEMBERS.has(name)) {
      continue;
    }
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      throw new StoredEventFormatError(`stored attribute '${name}' must be a string, number or boolean`);
    }
    attributes[name] = value;
  }

  if (typeof members.data_base64 === 'string') {
    return { attributes, data: { kind: 'binary', bytes: Buffer.from(members.data_base64, 'base64') } };
  }
  if (Object.hasOwn(members, 'data')) {
    return { attributes, data: { kind: 'json', value: members.data } };
  }
  return { attributes };
}
