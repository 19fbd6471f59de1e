import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import type { JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { TestNatsServer, freePort } from '../helpers/nats-server.ts';
import type { DispatcherService } from '../../services/dispatcher/service.ts';
import { TestSink, callApi, connectClient, dispatcherEnv, publishStored, readMetric, sleep, startDispatcher, subscriptionBody } from './support.ts';

const RETRYING_DELIVERY = { maxDeliver: 1000, backoff: 'exponential', backoffDelayMs: 200, maxBackoffMs: 2000, timeoutMs: 2000, deadLetter: true };

function duplicatesOf(ids: string[]): number {
  return ids.length - new Set(ids).size;
}

/** Publish, retrying while the test's own client reconnects. */
async function publishWithRetry(js: JetStreamClient, id: string, type: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await publishStored(js, 'commerce', { id, type });
      return;
    } catch (error) {
      if (Date.now() > deadline) {
        throw error;
      }
      await sleep(250);
    }
  }
}

/** Start `services/dispatcher/main.ts` as a child process and wait until `/readyz` returns 200. */
async function spawnDispatcher(env: Record<string, string>, baseUrl: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'services/dispatcher/main.ts'], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: 'ignore',
  });
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const ok = await fetch(`${baseUrl}/readyz`).then((response) => response.ok, () => false);
    if (ok) {
      return child;
    }
    await sleep(200);
  }
  child.kill('SIGKILL');
  throw new Error('dispatcher child process did not become ready');
}

void describe('dispatcher faults', () => {
  let nats: TestNatsServer;
  let client: { nc: NatsConnection; js: JetStreamClient };
  const services: DispatcherService[] = [];
  const sinks: TestSink[] = [];
  const children: ChildProcess[] = [];

  before(async () => {
    nats = await TestNatsServer.start();
    client = await connectClient(nats.url);
  });

  after(async () => {
    for (const child of children) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
      }
    }
    await client?.nc.close();
    await Promise.all(services.map((service) => service.stop()));
    await Promise.all(sinks.map((sink) => sink.close()));
    await nats?.stop();
  });

  void it('delivers everything after a 10 s sink outage', async () => {
    const { service, baseUrl } = await startDispatcher(nats.url);
    services.push(service);
    const port = await freePort();
    const created = await callApi(baseUrl, 'POST', '/v1/subscriptions', subscriptionBody('outage', `http://127.0.0.1:${port}/events`, { types: ['outage.v1'], delivery: RETRYING_DELIVERY }));
    assert.equal(created.status, 201, created.body);

    const expected = Array.from({ length: 20 }, (_, i) => `outage-${i}`);
    for (const id of expected) {
      await publishStored(client.js, 'commerce', { id, type: 'outage.v1' });
    }
    await sleep(10_000);
    const status = (await callApi(baseUrl, 'GET', '/v1/subscriptions/outage')).json() as { status: { failed: number; delivered: number } };
    assert.ok(status.status.failed >= 20, `expected failed attempts during the outage, got ${status.status.failed}`);
    assert.equal(status.status.delivered, 0);

    const sink = await TestSink.start(port);
    sinks.push(sink);
    await sink.waitFor(() => new Set(sink.ids()).size === expected.length, 30_000, 'every event after the outage');
    assert.deepEqual([...new Set(sink.ids())].sort(), [...expected].sort());
    await service.stop();
  });

  void it('loses nothing when killed mid-stream', async (t) => {
    const sink = await TestSink.start();
    sinks.push(sink);
    sink.handler = (_event, res) => setTimeout(() => res.writeHead(204).end(), 10);
    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    const env = dispatcherEnv(nats.url, { FERRY_DISPATCHER_INTERNAL_PORT: String(port), FERRY_DISPATCHER_ACK_WAIT_MARGIN_MS: '1000', FERRY_LOG_LEVEL: 'warn' });

    const first = await spawnDispatcher(env, baseUrl);
    children.push(first);
    const created = await callApi(baseUrl, 'POST', '/v1/subscriptions', subscriptionBody('killed', sink.url, {
      types: ['killed.v1'],
      config: { maxInFlightMessages: 16 },
      delivery: { ...RETRYING_DELIVERY, timeoutMs: 2000 },
    }));
    assert.equal(created.status, 201, created.body);

    const expected = Array.from({ length: 300 }, (_, i) => `killed-${i}`);
    const publishing = (async () => {
      for (const id of expected) {
        await publishStored(client.js, 'commerce', { id, type: 'killed.v1' });
        await sleep(5);
      }
    })();
    await sink.waitFor(() => sink.received.length >= 60, 30_000, 'deliveries before the kill');
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    const atKill = sink.received.length;

    const second = await spawnDispatcher(env, baseUrl);
    children.push(second);
    await publishing;
    await sink.waitFor(() => new Set(sink.ids()).size === expected.length, 60_000, 'every event after the restart');
    await sleep(4000);

    const ids = sink.ids();
    assert.deepEqual([...new Set(ids)].sort(), [...expected].sort());
    const duplicates = duplicatesOf(ids);
    t.diagnostic(`SIGKILL after ${atKill} deliveries: ${ids.length} requests for ${expected.length} events, ${duplicates} duplicates`);
    assert.ok(duplicates <= 16 * 2, `duplicates ${duplicates} exceed twice maxInFlightMessages`);
    second.kill('SIGTERM');
    await new Promise((resolve) => second.once('exit', resolve));
  });

  void it('resumes after nats-server restarts', async () => {
    const { service, baseUrl } = await startDispatcher(nats.url);
    services.push(service);
    const sink = await TestSink.start();
    sinks.push(sink);
    const created = await callApi(baseUrl, 'POST', '/v1/subscriptions', subscriptionBody('nats-restart', sink.url, { types: ['restart.v1'], delivery: RETRYING_DELIVERY }));
    assert.equal(created.status, 201, created.body);

    for (let i = 0; i < 10; i++) {
      await publishStored(client.js, 'commerce', { id: `before-${i}`, type: 'restart.v1' });
    }
    await sink.waitFor(() => new Set(sink.ids()).size === 10, 10_000, 'events before the restart');

    await nats.pause();
    await sleep(2000);
    await nats.resume();

    for (let i = 0; i < 10; i++) {
      await publishWithRetry(client.js, `after-${i}`, 'restart.v1');
    }
    await sink.waitFor(() => new Set(sink.ids()).size === 20, 60_000, 'events after the restart');
    let ready = await fetch(`${baseUrl}/readyz`);
    for (let i = 0; i < 50 && ready.status !== 200; i++) {
      await sleep(200);
      ready = await fetch(`${baseUrl}/readyz`);
    }
    assert.equal(ready.status, 200, await ready.text());
    await service.stop();
  });

  void it('shares work between replicas', async () => {
    const sink = await TestSink.start();
    sinks.push(sink);
    sink.handler = (_event, res) => setTimeout(() => res.writeHead(204).end(), 5);
    const first = await startDispatcher(nats.url);
    const second = await startDispatcher(nats.url);
    services.push(first.service, second.service);

    const created = await callApi(first.baseUrl, 'POST', '/v1/subscriptions', subscriptionBody('replicated', sink.url, { types: ['replicated.v1'], delivery: RETRYING_DELIVERY }));
    assert.equal(created.status, 201, created.body);
    const viaSecond = await callApi(second.baseUrl, 'GET', '/v1/subscriptions/replicated');
    assert.equal(viaSecond.status, 200);
    await sleep(500);

    const expected = Array.from({ length: 200 }, (_, i) => `replica-${i}`);
    for (const id of expected) {
      await publishStored(client.js, 'commerce', { id, type: 'replicated.v1' });
    }
    await sink.waitFor(() => new Set(sink.ids()).size === expected.length, 30_000, 'every event');
    await sleep(1000);

    assert.equal(duplicatesOf(sink.ids()), 0);
    const counts = await Promise.all(
      [first.baseUrl, second.baseUrl].map(async (url) => readMetric((await callApi(url, 'GET', '/metrics')).body, 'ferry_dispatcher_events_delivered_total', { subscription: 'replicated' }) ?? 0),
    );
    assert.equal(counts[0]! + counts[1]!, expected.length);
    assert.ok(counts[0]! > 0 && counts[1]! > 0, `both replicas deliver, got ${counts.join(' and ')}`);
  });
});
