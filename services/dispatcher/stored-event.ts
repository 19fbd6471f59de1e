/**
 * Adapter from the stored event format (`shared/events/stored-event.ts`, structured JSON in the NATS
 * body) to what a binary-mode delivery needs: attribute strings for `ce-*` headers and the data bytes.
 */
import { decodeStoredEvent as decodeStoredCloudEvent } from '../../shared/events/stored-event.ts';

/** A decoded stored event, ready to be sent in binary mode. */
export type StoredEvent = {
  id: string;
  type: string;
  source: string;
  /** Every context attribute except the data members, as the strings that HTTP headers carry. */
  attributes: Record<string, string>;
  /** The data bytes, or undefined when the event has no data. */
  body: Buffer | undefined;
  /** `datacontenttype`, defaulting to `application/json` when JSON data is present. */
  contentType: string | undefined;
};

export class StoredEventError extends Error {}

const REQUIRED_ATTRIBUTES = ['id', 'type', 'source'] as const;

function isJsonContentType(contentType: string | undefined): boolean {
  if (contentType === undefined) {
    return true;
  }
  const mediaType = contentType.split(';')[0]!.trim().toLowerCase();
  return mediaType === 'application/json' || mediaType === 'text/json' || mediaType.endsWith('+json');
}

function toJsonBody(value: unknown, contentType: string | undefined): Buffer {
  // JSON format §3.1: a string `data` with a non-JSON content type carries the text itself.
  if (typeof value === 'string' && !isJsonContentType(contentType)) {
    return Buffer.from(value, 'utf8');
  }
  return Buffer.from(JSON.stringify(value), 'utf8');
}

/** Decode a stored event. Throws `StoredEventError` naming the problem when the body is not a valid CloudEvent. */
export function decodeStoredEvent(bytes: Uint8Array): StoredEvent {
  let decoded;
  try {
    decoded = decodeStoredCloudEvent(bytes);
  } catch (error) {
    throw new StoredEventError(error instanceof Error ? error.message : String(error), { cause: error });
  }

  const attributes: Record<string, string> = {};
  for (const [name, value] of Object.entries(decoded.attributes)) {
    attributes[name] = String(value);
  }
  for (const name of REQUIRED_ATTRIBUTES) {
    if (attributes[name] === undefined || attributes[name] === '') {
      throw new StoredEventError(`stored event has no '${name}' attribute`);
    }
  }

  const data = decoded.data;
  const contentType = attributes.datacontenttype ?? (data?.kind === 'json' ? 'application/json' : undefined);
  let body: Buffer | undefined;
  if (data?.kind === 'binary') {
    body = Buffer.from(data.bytes.buffer, data.bytes.byteOffset, data.bytes.byteLength);
  } else if (data?.kind === 'json') {
    body = toJsonBody(data.value, contentType);
  }

  return { id: attributes.id!, type: attributes.type!, source: attributes.source!, attributes, body, contentType };
}
