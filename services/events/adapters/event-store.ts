/**
 * Stores events in JetStream. The caller gets success only after a PubAck, so no event gets a 2xx
 * response unless JetStream acknowledged it.
 */
import { JetStreamApiError, type JetStreamClient, type PubAck } from '@nats-io/jetstream';
import { errors as natsErrors, headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { PayloadTooLargeError, StorageFullError, UnavailableError } from '../../../shared/errors/errors.ts';
import { STORED_EVENT_CONTENT_TYPE, STORED_EVENT_HEADERS } from '../../../shared/events/stored-event.ts';
import type { NatsConnectionState } from '../../../shared/nats/connection.ts';
import type { EventMessage } from '../domain/event-message.ts';

/**
 * JetStream API error code of a PubAck rejected because the stream reached `max_bytes` or `max_msgs`
 * under the discard policy `new`. Its descriptions are "maximum bytes exceeded" and "maximum messages
 * exceeded", as checked against nats-server 2.9.10.
 */
export const JS_STREAM_STORE_FAILED = 10077;
/** JetStream API error code when the server or account has no storage left ("insufficient resources"). */
export const JS_INSUFFICIENT_RESOURCES = 10047;

/** Pause between publish attempts, and between checks for a reconnect while the deadline runs. */
export const PUBLISH_RETRY_DELAY_MS = 100;

/** Room left for the stored message's NATS headers (about 135 bytes) when checking `max_payload`. */
export const STORED_HEADERS_ALLOWANCE_BYTES = 256;

/** `Retry-After` sent with a 503 when the event store is unavailable. */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 1;

export type EventStoreOptions = {
  /** How long one publish waits for its PubAck, in milliseconds. */
  attemptTimeoutMs: number;
  /** How long all attempts for one event may take together, in milliseconds. Then the caller gets 503. */
  deadlineMs: number;
};

export type EventStore = {
  /** Publish and wait for the PubAck, retrying with the same `Nats-Msg-Id` until the deadline. */
  store(message: EventMessage): Promise<PubAck>;
};

function unavailable(reason: string, cause?: unknown): UnavailableError {
  return new UnavailableError(`event store is unavailable: ${reason}`, { cause, retryAfterSeconds: UNAVAILABLE_RETRY_AFTER_SECONDS });
}

function isStreamFull(error: unknown): error is JetStreamApiError {
  return error instanceof JetStreamApiError && (error.code === JS_STREAM_STORE_FAILED || error.code === JS_INSUFFICIENT_RESOURCES);
}

/**
 * Errors after which the same publish can succeed: no PubAck in time, no JetStream responder yet
 * (the server is starting), the connection dropped, or a JetStream error with status 503.
 */
function isRetryable(error: unknown): boolean {
  return (
    error instanceof natsErrors.TimeoutError ||
    // Not exported by @nats-io/jetstream 3.x. Raised when no JetStream server responds to the publish.
    (error instanceof Error && error.name === 'JetStreamNotEnabled') ||
    error instanceof natsErrors.ConnectionError ||
    (error instanceof natsErrors.RequestError && error.isNoResponders()) ||
    (error instanceof JetStreamApiError && error.status === 503 && !isStreamFull(error))
  );
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Holds publishes until the event loop's check phase, so that every request whose body arrived in
 * the same poll phase is published at once. nats.js writes all publishes of one microtask run in a
 * single socket write, which saves a system call per event on the service and on nats-server.
 */
function createPublishBatcher(): () => Promise<void> {
  let waiting: (() => void)[] = [];
  const release = (): void => {
    const batch = waiting;
    waiting = [];
    for (const resolve of batch) {
      resolve();
    }
  };
  return () =>
    new Promise((resolve) => {
      if (waiting.length === 0) {
        setImmediate(release);
      }
      waiting.push(resolve);
    });
}

/** Create the JetStream event store. It fails fast with 503 while the NATS connection is down. */
export function createEventStore(js: JetStreamClient, nc: NatsConnection, connection: NatsConnectionState, options: EventStoreOptions, log: Logger): EventStore {
  // nats-server counts headers into max_payload, and nats.js rejects a larger message before sending it.
  function assertFits(message: EventMessage): void {
    const maxPayload = nc.info?.max_payload;
    if (maxPayload !== undefined && message.payload.length + STORED_HEADERS_ALLOWANCE_BYTES > maxPayload) {
      throw new PayloadTooLargeError(
        `event is ${message.payload.length} bytes in its stored form, over the NATS max_payload of ${maxPayload} bytes less ${STORED_HEADERS_ALLOWANCE_BYTES} for headers`,
      );
    }
  }

  const nextBatch = createPublishBatcher();

  async function store(message: EventMessage): Promise<PubAck> {
    if (!connection.connected) {
      throw unavailable('not connected to NATS');
    }
    assertFits(message);
    await nextBatch();

    const headers = natsHeaders();
    headers.set(STORED_EVENT_HEADERS.contentType, STORED_EVENT_CONTENT_TYPE);
    const deadline = Date.now() + options.deadlineMs;

    for (let attempt = 1; ; attempt++) {
      const remainingMs = deadline - Date.now();
      try {
        return await js.publish(message.subject, message.payload, {
          msgID: message.messageId,
          headers,
          timeout: Math.max(1, Math.min(options.attemptTimeoutMs, remainingMs)),
        });
      } catch (error) {
        if (isStreamFull(error)) {
          throw new StorageFullError(`event store is full: ${error.message}`, { cause: error });
        }
        if (error instanceof natsErrors.ClosedConnectionError || error instanceof natsErrors.DrainingConnectionError) {
          throw unavailable('the NATS connection is closing', error);
        }
        if (!isRetryable(error)) {
          throw error;
        }
        if (deadline - Date.now() <= PUBLISH_RETRY_DELAY_MS) {
          log.warn({ err: error, attempt, eventId: message.eventId, subject: message.subject }, 'giving up on publish at its deadline');
          throw unavailable(`no acknowledgement from JetStream within ${options.deadlineMs} ms`, error);
        }
        log.warn({ err: error, attempt, eventId: message.eventId, subject: message.subject }, 'retrying publish with the same message id');
        await delay(PUBLISH_RETRY_DELAY_MS);
      }
    }
  }

  return { store };
}
