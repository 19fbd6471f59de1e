import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { TestNatsServer } from '../helpers/nats-server.ts';
import type { DispatcherService } from '../../services/dispatcher/service.ts';
import { TestSink, adminToken, callApi, connectClient, publishStored, sleep, startDispatcher, subscriptionBody, type ReceivedEvent } from './support.ts';

type DeadLetterView = { id: string; subscription: string; attempts: number; lastStatus?: number; lastError: string; eventSubject: string };

/** Gaps in ms between consecutive attempts of one event. */
function gapsOf(events: ReceivedEvent[], id: string): number[] {
  const times = events.filter((event) => event.headers['ce-id'] === id).map((event) => event.at);
  return times.slice(1).map((time, i) => time - times[i]!);
}

/** Answer `status` to the first `failures` attempts of each event, then 204. */
function failFirst(failures: number, status: number, headers: Record<string, string> = {}) {
  const attempts = new Map<string, number>();
  return (event: ReceivedEvent, res: ServerResponse): void => {
    const id = String(event.headers['ce-id']);
    const count = (attempts.get(id) ?? 0) + 1;
    attempts.set(id, count);
    if (count <= failures) {
      res.writeHead(status, headers).end(`failure ${count}`);
    } else {
      res.writeHead(204).end();
    }
  };
}

void describe('dispatcher retries and dead letters', () => {
  let nats: TestNatsServer;
  let service: DispatcherService;
  let baseUrl: string;
  let client: { nc: NatsConnection; js: JetStreamClient };
  const sinks: TestSink[] = [];

  const newSink = async (): Promise<TestSink> => {
    const sink = await TestSink.start();
    sinks.push(sink);
    return sink;
  };

  const subscribe = async (name: string, sink: TestSink, overrides: Record<string, unknown>): Promise<void> => {
    const response = await callApi(baseUrl, 'POST', '/v1/subscriptions', subscriptionBody(name, sink.url, { types: [`${name}.v1`], ...overrides }));
    assert.equal(response.status, 201, response.body);
  };

  const listDeadLetters = async (subscription: string): Promise<DeadLetterView[]> => {
    const response = await callApi(baseUrl, 'GET', `/v1/deadletters?subscription=${subscription}`);
    assert.equal(response.status, 200, response.body);
    return (response.json() as { deadLetters: DeadLetterView[] }).deadLetters;
  };

  before(async () => {
    nats = await TestNatsServer.start();
    ({ service, baseUrl } = await startDispatcher(nats.url, { FERRY_DISPATCHER_ACK_WAIT_MARGIN_MS: '1000' }));
    client = await connectClient(nats.url);
  });

  after(async () => {
    await client?.nc.close();
    await service?.stop();
    await Promise.all(sinks.map((sink) => sink.close()));
    await nats?.stop();
  });

  void it('backs off exponentially', async () => {
    const sink = await newSink();
    sink.handler = failFirst(3, 503);
    await subscribe('exponential', sink, { delivery: { maxDeliver: 10, backoff: 'exponential', backoffDelayMs: 400, maxBackoffMs: 10_000, timeoutMs: 2000 } });

    await publishStored(client.js, 'commerce', { id: 'exp-1', type: 'exponential.v1' });
    await sink.waitFor(() => sink.received.length === 4, 20_000, 'four attempts');

    const gaps = gapsOf(sink.received, 'exp-1');
    for (const [i, expected] of [400, 800, 1600].entries()) {
      assert.ok(gaps[i]! >= expected * 0.9, `gap ${i} is ${gaps[i]} ms, expected at least ${expected * 0.9}`);
      assert.ok(gaps[i]! <= expected + 1500, `gap ${i} is ${gaps[i]} ms, expected at most ${expected + 1500}`);
    }
  });

  void it('backs off linearly up to the maximum', async () => {
    const sink = await newSink();
    sink.handler = failFirst(3, 500);
    await subscribe('linear', sink, { delivery: { maxDeliver: 10, backoff: 'linear', backoffDelayMs: 400, maxBackoffMs: 900, timeoutMs: 2000 } });

    await publishStored(client.js, 'commerce', { id: 'lin-1', type: 'linear.v1' });
    await sink.waitFor(() => sink.received.length === 4, 20_000, 'four attempts');

    const gaps = gapsOf(sink.received, 'lin-1');
    for (const [i, expected] of [400, 800, 900].entries()) {
      assert.ok(gaps[i]! >= expected * 0.9, `gap ${i} is ${gaps[i]} ms, expected at least ${expected * 0.9}`);
      assert.ok(gaps[i]! <= expected + 1500, `gap ${i} is ${gaps[i]} ms, expected at most ${expected + 1500}`);
    }
  });

  void it('retries each retryable status', async () => {
    for (const status of [404, 408, 409, 429, 500, 502, 504]) {
      const sink = await newSink();
      sink.handler = failFirst(1, status);
      await subscribe(`status-${status}`, sink, { delivery: { maxDeliver: 5, backoffDelayMs: 100, maxBackoffMs: 1000, timeoutMs: 2000 } });
      await publishStored(client.js, 'commerce', { id: `status-${status}`, type: `status-${status}.v1` });
      await sink.waitFor(() => sink.received.length === 2, 10_000, `a retry after ${status}`);
      assert.equal(sink.received.length, 2, `status ${status}`);
    }
  });

  void it('honours Retry-After', async () => {
    const sink = await newSink();
    sink.handler = failFirst(1, 429, { 'retry-after': '2' });
    await subscribe('retry-after', sink, { delivery: { maxDeliver: 5, backoffDelayMs: 100, maxBackoffMs: 10_000, timeoutMs: 2000 } });

    await publishStored(client.js, 'commerce', { id: 'ra-1', type: 'retry-after.v1' });
    await sink.waitFor(() => sink.received.length === 2, 15_000, 'the retry');

    const [gap] = gapsOf(sink.received, 'ra-1');
    assert.ok(gap! >= 1900, `retry came after ${gap} ms, expected at least 2000`);
    assert.ok(gap! <= 4000, `retry came after ${gap} ms, expected at most 4000`);
  });

  void it('dead-letters a 400 at once', async () => {
    const sink = await newSink();
    sink.handler = (_event, res) => res.writeHead(400).end('order code is missing');
    await subscribe('rejected', sink, {});

    await publishStored(client.js, 'commerce', { id: 'bad-1', type: 'rejected.v1' });
    await sink.waitFor(() => sink.received.length === 1, 10_000, 'one attempt');

    let letters: DeadLetterView[] = [];
    for (let i = 0; i < 50 && letters.length === 0; i++) {
      await sleep(100);
      letters = await listDeadLetters('rejected');
    }
    assert.equal(letters.length, 1);
    assert.equal(letters[0]!.id, 'bad-1');
    assert.equal(letters[0]!.subscription, 'rejected');
    assert.equal(letters[0]!.attempts, 1);
    assert.equal(letters[0]!.lastStatus, 400);
    assert.equal(letters[0]!.lastError, 'sink responded with 400: order code is missing');
    assert.equal(letters[0]!.eventSubject, 'ferry.events.commerce.rejected.v1');
    await sleep(500);
    assert.equal(sink.received.length, 1);
  });

  void it('dead-letters an invalid stored event', async () => {
    const sink = await newSink();
    await subscribe('invalid-event', sink, {});

    await client.js.publish('ferry.events.commerce.invalid-event.v1', '{"specversion":"1.0","id":"no-type"', { msgID: 'invalid-1' });
    await publishStored(client.js, 'commerce', { id: 'valid-1', type: 'invalid-event.v1' });
    await sink.waitFor(() => sink.received.length === 1, 10_000, 'the valid event');

    let letters: DeadLetterView[] = [];
    for (let i = 0; i < 50 && letters.length === 0; i++) {
      await sleep(100);
      letters = await listDeadLetters('invalid-event');
    }
    assert.equal(letters.length, 1);
    assert.equal(letters[0]!.id, undefined);
    assert.equal(letters[0]!.lastError, 'stored event is not valid JSON');
    assert.deepEqual(sink.ids(), ['valid-1']);
  });

  void it('drops events when dead-lettering is off', async () => {
    const sink = await newSink();
    sink.handler = (_event, res) => res.writeHead(400).end();
    await subscribe('no-dead-letter', sink, { delivery: { maxDeliver: 3, backoffDelayMs: 100, timeoutMs: 2000, deadLetter: false } });

    await publishStored(client.js, 'commerce', { id: 'dropped-1', type: 'no-dead-letter.v1' });
    await sink.waitFor(() => sink.received.length === 1, 10_000, 'one attempt');
    await sleep(1000);

    assert.equal(sink.received.length, 1);
    assert.deepEqual(await listDeadLetters('no-dead-letter'), []);
    const status = (await callApi(baseUrl, 'GET', '/v1/subscriptions/no-dead-letter')).json() as { status: { failed: number; deadLettered: number } };
    assert.equal(status.status.failed, 1);
    assert.equal(status.status.deadLettered, 0);
  });

  void it('dead-letters after maxDeliver', async () => {
    const sink = await newSink();
    sink.handler = (_event, res) => res.writeHead(503).end('down for maintenance');
    await subscribe('exhausted', sink, { delivery: { maxDeliver: 3, backoffDelayMs: 100, maxBackoffMs: 200, timeoutMs: 2000 } });

    await publishStored(client.js, 'commerce', { id: 'ex-1', type: 'exhausted.v1' });
    await sink.waitFor(() => sink.received.length === 3, 10_000, 'three attempts');

    let letters: DeadLetterView[] = [];
    for (let i = 0; i < 50 && letters.length === 0; i++) {
      await sleep(100);
      letters = await listDeadLetters('exhausted');
    }
    assert.equal(letters.length, 1);
    assert.equal(letters[0]!.attempts, 3);
    assert.equal(letters[0]!.lastStatus, 503);
    assert.equal(letters[0]!.lastError, 'sink responded with 503: down for maintenance');
    await sleep(1000);
    assert.equal(sink.received.length, 3);

    const status = (await callApi(baseUrl, 'GET', '/v1/subscriptions/exhausted')).json() as { status: { failed: number; deadLettered: number; delivered: number; lastError: { status: number; eventId: string } } };
    assert.equal(status.status.failed, 3);
    assert.equal(status.status.deadLettered, 1);
    assert.equal(status.status.delivered, 0);
    assert.equal(status.status.lastError.status, 503);
    assert.equal(status.status.lastError.eventId, 'ex-1');
  });

  void it('redrives dead letters', async () => {
    const sink = await newSink();
    sink.handler = (_event, res) => res.writeHead(422).end();
    await subscribe('redrive', sink, {});
    for (const id of ['rd-1', 'rd-2', 'rd-3']) {
      await publishStored(client.js, 'commerce', { id, type: 'redrive.v1' });
    }
    let letters: DeadLetterView[] = [];
    for (let i = 0; i < 50 && letters.length < 3; i++) {
      await sleep(100);
      letters = await listDeadLetters('redrive');
    }
    assert.equal(letters.length, 3);

    sink.handler = (_event, res) => res.writeHead(200).end();
    const first = await callApi(baseUrl, 'POST', '/v1/deadletters/redrive', { subscription: 'redrive', ids: ['rd-2', 'unknown'] });
    assert.equal(first.status, 200, first.body);
    assert.deepEqual(first.json(), { redriven: ['rd-2'], failed: [], missing: ['unknown'] });
    assert.deepEqual((await listDeadLetters('redrive')).map((letter) => letter.id), ['rd-1', 'rd-3']);

    sink.handler = (event, res) => res.writeHead(event.headers['ce-id'] === 'rd-3' ? 500 : 204).end();
    const second = await callApi(baseUrl, 'POST', '/v1/deadletters/redrive', { subscription: 'redrive' });
    assert.equal(second.status, 200, second.body);
    const result = second.json() as { redriven: string[]; failed: { id: string; status: number }[] };
    assert.deepEqual(result.redriven, ['rd-1']);
    assert.equal(result.failed.length, 1);
    assert.equal(result.failed[0]!.id, 'rd-3');
    assert.equal(result.failed[0]!.status, 500);
    assert.deepEqual((await listDeadLetters('redrive')).map((letter) => letter.id), ['rd-3']);
  });

  void it('times out a slow sink', async () => {
    const sink = await newSink();
    sink.handler = (_event, res) => setTimeout(() => res.writeHead(204).end(), 3000);
    await subscribe('slow-timeout', sink, { delivery: { maxDeliver: 2, backoffDelayMs: 100, maxBackoffMs: 200, timeoutMs: 500 } });

    await publishStored(client.js, 'commerce', { id: 'slow-1', type: 'slow-timeout.v1' });
    let letters: DeadLetterView[] = [];
    for (let i = 0; i < 100 && letters.length === 0; i++) {
      await sleep(100);
      letters = await listDeadLetters('slow-timeout');
    }
    assert.equal(letters.length, 1);
    assert.equal(letters[0]!.attempts, 2);
    assert.equal(letters[0]!.lastStatus, undefined);
    assert.equal(letters[0]!.lastError, 'no response within 500 ms');
  });

  void it('does not redeliver while a slow sink works', async () => {
    const sink = await newSink();
    sink.handler = (_event, res) => setTimeout(() => res.writeHead(204).end(), 2500);
    await subscribe('slow-ok', sink, { delivery: { maxDeliver: 5, backoffDelayMs: 100, maxBackoffMs: 200, timeoutMs: 4000 } });

    await publishStored(client.js, 'commerce', { id: 'slow-ok-1', type: 'slow-ok.v1' });
    await sink.waitFor(() => sink.received.length === 1, 10_000, 'the first attempt');
    await sleep(4000);
    assert.equal(sink.received.length, 1);
    const status = (await callApi(baseUrl, 'GET', '/v1/subscriptions/slow-ok')).json() as { status: { delivered: number } };
    assert.equal(status.status.delivered, 1);
  });

  void it('rejects bad dead-letter requests', async () => {
    const viewer = await adminToken(['viewer']);
    const cases: [string, string, unknown, number, RegExp][] = [
      ['GET', '/v1/deadletters', undefined, 400, /`subscription`/],
      ['GET', '/v1/deadletters?subscription=Bad.Name', undefined, 400, /`subscription`/],
      ['GET', '/v1/deadletters?subscription=redrive&limit=0', undefined, 400, /`limit`/],
      ['GET', '/v1/deadletters?subscription=redrive&limit=abc', undefined, 400, /`limit`/],
      ['POST', '/v1/deadletters/redrive', { ids: ['x'] }, 400, /`subscription` is required/],
      ['POST', '/v1/deadletters/redrive', { subscription: 'redrive', ids: 'x' }, 400, /`ids` must be array/],
      ['POST', '/v1/deadletters/redrive', { subscription: 'redrive', extra: 1 }, 400, /`extra` is not a known field/],
      ['POST', '/v1/deadletters/redrive', [1, 2], 400, /JSON object/],
      ['POST', '/v1/deadletters/redrive', { subscription: 'no-such-subscription' }, 404, /not found/],
    ];
    for (const [method, path, body, status, message] of cases) {
      const response = await callApi(baseUrl, method, path, body);
      assert.equal(response.status, status, `${method} ${path}: ${response.body}`);
      const error = response.json() as { code: number; error: string };
      assert.equal(error.code, status);
      assert.match(error.error, message);
    }

    const forbidden = await callApi(baseUrl, 'POST', '/v1/deadletters/redrive', { subscription: 'redrive' }, viewer);
    assert.equal(forbidden.status, 403);
    const listed = await callApi(baseUrl, 'GET', '/v1/deadletters?subscription=redrive', undefined, viewer);
    assert.equal(listed.status, 200);
    const anonymous = await fetch(`${baseUrl}/v1/deadletters?subscription=redrive`);
    assert.equal(anonymous.status, 401);
  });
});
