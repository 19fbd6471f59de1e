/**
 * Decoder of events as the events service stores them in JetStream: the NATS body is the CloudEvent
 * in structured JSON mode (CloudEvents JSON format 1.0). JSON data is in `data`, other data is in
 * `data_base64` with the exact bytes, and `datacontenttype` tells which.
 */

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

function toAttributeString(name: string, value: unknown): string {
  if (typeof value === 'string') {
    return value;
  }
  if (typeof value === 'number' || typeof value === 'boolean') {
    return String(value);
  }
  throw new StoredEventError(`attribute '${name}' must be a string, number or boolean, got ${value === null ? 'null' : typeof value}`);
}

function toBody(event: Record<string, unknown>, contentType: string | undefined): Buffer | undefined {
  if (typeof event.data_base64 === 'string') {
    return Buffer.from(event.data_base64, 'base64');
  }
  if (!('data' in event) || event.data === undefined) {
    return undefined;
  }
  // JSON format §3.1: a string `data` with a non-JSON content type carries the text itself.
  if (typeof event.data === 'string' && !isJsonContentType(contentType)) {
    return Buffer.from(event.data, 'utf8');
  }
  return Buffer.from(JSON.stringify(event.data), 'utf8');
}

/** Decode a stored event. Throws `StoredEventError` naming the problem when the body is not a valid CloudEvent. */
export function decodeStoredEvent(bytes: Uint8Array): StoredEvent {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (error) {
    throw new StoredEventError('stored event is not valid JSON', { cause: error });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new StoredEventError('stored event must be a JSON object');
  }
  const event = parsed as Record<string, unknown>;
  if (event.specversion !== '1.0') {
    throw new StoredEventError(`stored event has specversion ${JSON.stringify(event.specversion)}, expected "1.0"`);
  }
  for (const name of REQUIRED_ATTRIBUTES) {
    if (typeof event[name] !== 'string' || event[name] === '') {
      throw new StoredEventError(`stored event has no '${name}' attribute`);
    }
  }

  const attributes: Record<string, string> = {};
  for (const [name, value] of Object.entries(event)) {
    if (name === 'data' || name === 'data_base64' || value === undefined || value === null) {
      continue;
    }
    attributes[name] = toAttributeString(name, value);
  }

  const hasJsonData = 'data' in event && event.data !== undefined && typeof event.data_base64 !== 'string';
  const contentType = attributes.datacontenttype ?? (hasJsonData ? 'application/json' : undefined);
  return {
    id: attributes.id!,
    type: attributes.type!,
    source: attributes.source!,
    attributes,
    body: toBody(event, contentType),
    contentType,
  };
}
