import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';

/**
 * True when a KV write failed because the key's revision was not the expected one: `kv.create` on an
 * existing key, or `kv.update` after a concurrent write.
 */
export function isWrongRevision(error: unknown): boolean {
  return (
    error instanceof JetStreamApiError &&
    (error.code === JetStreamApiCodes.StreamWrongLastSequence || error.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
  );
}
