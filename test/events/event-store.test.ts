import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JetStreamApiError, type JetStreamClient, type PubAck } from '@nats-io/jetstream';
import { errors, type NatsConnection } from '@nats-io/transport-node';
import pino from 'pino';
import { PayloadTooLargeError, StorageFullError, UnavailableError } from '../../shared/errors/errors.ts';
import type { NatsConnectionState } from '../../shared/nats/connection.ts';
import { JS_STREAM_STORE_FAILED, STORED_HEADERS_ALLOWANCE_BYTES, createEventStore } from '../../services/events/adapters/event-store.ts';
import type { EventMessage } from '../../services/events/domain/event-message.ts';

// A unit test of the retry and error mapping. The broker itself is exercised in ingress.test.ts and fault.test.ts.

const message: EventMessage = { subject: 'ferry.events.commerce.order.created.v1', messageId: 'a'.repeat(64), payload: Buffer.from('{}'), eventId: 'A-1' };
const ACK: PubAck = { stream: 'FERRY_EVENTS', seq: 1, duplicate: false, domain: '' };

type Call = { subject: string; msgID: string | undefined };

function createStubs(outcomes: (() => PubAck)[], options: { connected?: boolean; maxPayload?: number } = {}) {
  const calls: Call[] = [];
  const js = {
    publish: (subject: string, _payload: Uint8Array, opts?: { msgID?: string }) => {
      calls.push({ subject, msgID: opts?.msgID });
      const next = outcomes.shift() ?? (() => ACK);
      return Promise.resolve().then(next);
    },
  } as unknown as JetStreamClient;
  const nc = { info: { max_payload: options.maxPayload ?? 1024 * 1024 } } as unknown as NatsConnection;
  const state: NatsConnectionState = { connected: options.connected ?? true, onReconnect: () => undefined };
  return { js, nc, state, calls };
}

const log = pino({ level: 'silent' });

describe('event store', () => {
  it('retries a timeout with the same id', async () => {
    const stubs = createStubs([
      () => {
        throw new errors.TimeoutError();
      },
    ]);
    const store = createEventStore(stubs.js, stubs.nc, stubs.state, { attemptTimeoutMs: 50, deadlineMs: 2000 }, log);

    assert.deepEqual(await store.store(message), ACK);
    assert.equal(stubs.calls.length, 2);
    assert.deepEqual(
      stubs.calls.map((call) => call.msgID),
      [message.messageId, message.messageId],
    );
  });

  it('gives up at the deadline', async () => {
    const timeout = (): PubAck => {
      throw new errors.TimeoutError();
    };
    const stubs = createStubs(Array.from({ length: 100 }, () => timeout));
    const store = createEventStore(stubs.js, stubs.nc, stubs.state, { attemptTimeoutMs: 50, deadlineMs: 300 }, log);

    await assert.rejects(store.store(message), (error: unknown) => {
      assert.ok(error instanceof UnavailableError);
      assert.equal(error.retryAfterSeconds, 1);
      return true;
    });
    assert.ok(stubs.calls.length >= 2);
  });

  it('fails fast while NATS is disconnected', async () => {
    const stubs = createStubs([], { connected: false });
    const store = createEventStore(stubs.js, stubs.nc, stubs.state, { attemptTimeoutMs: 50, deadlineMs: 300 }, log);

    await assert.rejects(store.store(message), /event store is unavailable: not connected to NATS/);
    assert.equal(stubs.calls.length, 0);
  });

  it('maps a full stream to StorageFullError', async () => {
    for (const description of ['maximum bytes exceeded', 'maximum messages exceeded']) {
      const stubs = createStubs([
        () => {
          throw new JetStreamApiError({ err_code: JS_STREAM_STORE_FAILED, code: 503, description });
        },
      ]);
      const store = createEventStore(stubs.js, stubs.nc, stubs.state, { attemptTimeoutMs: 50, deadlineMs: 300 }, log);

      await assert.rejects(store.store(message), StorageFullError);
      assert.equal(stubs.calls.length, 1);
    }
  });

  it('rejects an event over the NATS max_payload', async () => {
    const stubs = createStubs([], { maxPayload: 1000 });
    const store = createEventStore(stubs.js, stubs.nc, stubs.state, { attemptTimeoutMs: 50, deadlineMs: 300 }, log);

    await store.store({ ...message, payload: Buffer.alloc(1000 - STORED_HEADERS_ALLOWANCE_BYTES) });
    await assert.rejects(store.store({ ...message, payload: Buffer.alloc(1001 - STORED_HEADERS_ALLOWANCE_BYTES) }), PayloadTooLargeError);
  });

  it('answers unavailable while the connection closes', async () => {
    const stubs = createStubs([
      () => {
        throw new errors.ClosedConnectionError();
      },
    ]);
    const store = createEventStore(stubs.js, stubs.nc, stubs.state, { attemptTimeoutMs: 50, deadlineMs: 300 }, log);

    await assert.rejects(store.store(message), UnavailableError);
    assert.equal(stubs.calls.length, 1);
  });

  it('passes other errors on', async () => {
    const stubs = createStubs([
      () => {
        throw new JetStreamApiError({ err_code: 10060, code: 400, description: 'expected stream does not match' });
      },
    ]);
    const store = createEventStore(stubs.js, stubs.nc, stubs.state, { attemptTimeoutMs: 50, deadlineMs: 300 }, log);

    await assert.rejects(store.store(message), JetStreamApiError);
  });
});
