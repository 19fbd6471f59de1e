import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import pino from 'pino';
import { parseCommonConfig } from '../../shared/config/common.ts';
import { connectNats, type NatsHandle } from '../../shared/nats/connection.ts';
import { KvCache } from '../../shared/nats/kv-cache.ts';
import { EVENTS_STREAM, KV_BUCKETS } from '../../shared/nats/names.ts';
import { ensureNatsResources, type NatsResourceSettings } from '../../shared/nats/resources.ts';
import { createServiceApp, finishServiceApp, serveInternal, startRuntime, type ServiceRuntime } from '../../shared/service/runtime.ts';
import { request } from '../helpers/http.ts';
import { TestNatsServer } from '../helpers/nats-server.ts';

const silent = pino({ level: 'silent' });

const settings: NatsResourceSettings = {
  replicas: 1,
  eventsMaxAgeMs: 60_000,
  eventsMaxBytes: -1,
  duplicateWindowMs: 30_000,
  deadLetterMaxAgeMs: 60_000,
  tokenTtlMs: 60_000,
};

/** Poll `condition` every 50 ms until it returns true or `timeoutMs` passes. */
async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) {
      return;
    }
    await sleep(50);
  }
  assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

describe('NATS resources', () => {
  let nats: TestNatsServer;
  let nc: NatsConnection;

  before(async () => {
    nats = await TestNatsServer.start();
    nc = await connect({ servers: nats.url });
  });
  after(async () => {
    await nc.close();
    await nats.stop();
  });

  it('creates every resource and is idempotent', async () => {
    const first = await ensureNatsResources(nc, settings, silent);
    await first.js.publish('ferry.events.commerce.order.created.v1', 'x', { msgID: 'one' });
    await first.kv.applications.put('commerce', '{}');

    const second = await ensureNatsResources(nc, settings, silent);
    const info = await second.jsm.streams.info(EVENTS_STREAM);
    assert.equal(info.state.messages, 1, 'stored events survive a second run');
    assert.equal((await second.kv.applications.get('commerce'))?.string(), '{}');

    const buckets: string[] = [];
    for await (const status of second.jsm.streams.list()) {
      buckets.push(status.config.name);
    }
    for (const bucket of Object.values(KV_BUCKETS)) {
      assert.ok(buckets.includes(`KV_${bucket}`), `bucket ${bucket} exists`);
    }
    assert.ok(buckets.includes('OBJ_ferry-specs'));
  });

  it('applies changed limits to existing resources', async () => {
    const resources = await ensureNatsResources(nc, { ...settings, eventsMaxAgeMs: 120_000, tokenTtlMs: 90_000 }, silent);
    const events = await resources.jsm.streams.info(EVENTS_STREAM);
    assert.equal(events.config.max_age, 120_000 * 1_000_000);
    assert.equal(events.state.messages, 1);
    const tokens = await resources.jsm.streams.info(`KV_${KV_BUCKETS.tokens}`);
    assert.equal(tokens.config.max_age, 90_000 * 1_000_000);
  });

  it('survives concurrent creation from several replicas', async () => {
    const fresh = await TestNatsServer.start();
    const connections = await Promise.all([1, 2, 3].map(() => connect({ servers: fresh.url })));
    try {
      await Promise.all(connections.map((connection) => ensureNatsResources(connection, settings, silent)));
      const info = await (await ensureNatsResources(connections[0]!, settings, silent)).jsm.streams.info(EVENTS_STREAM);
      assert.equal(info.config.name, EVENTS_STREAM);
    } finally {
      await Promise.all(connections.map((connection) => connection.close()));
      await fresh.stop();
    }
  });
});

describe('KV cache', () => {
  let nats: TestNatsServer;
  let handle: NatsHandle;

  before(async () => {
    nats = await TestNatsServer.start();
    handle = await connectNats({ url: nats.url, name: 'kv-cache-test', log: silent });
  });
  after(async () => {
    await handle.nc.close();
    await nats.stop();
  });

  it('loads existing entries, then follows changes', async () => {
    const resources = await ensureNatsResources(handle.nc, settings, silent);
    const kv = resources.kv.applications;
    await kv.put('commerce', JSON.stringify({ name: 'commerce' }));
    await kv.put('crm', JSON.stringify({ name: 'crm' }));
    await kv.delete('crm');

    const cache = new KvCache<{ name: string }>({ kv, bucket: KV_BUCKETS.applications, decode: (entry) => entry.json(), log: silent, connection: handle.state });
    const changes: [string, unknown][] = [];
    cache.onChange((key, value) => changes.push([key, value]));
    await cache.start();
    try {
      assert.deepEqual([...cache.keys()], ['commerce']);

      await kv.put('erp', JSON.stringify({ name: 'erp' }));
      await waitFor(() => cache.has('erp'), 2000, 'the new key');
      await kv.delete('commerce');
      await waitFor(() => !cache.has('commerce'), 2000, 'the deletion');
      assert.deepEqual(changes, [
        ['erp', { name: 'erp' }],
        ['commerce', undefined],
      ]);
    } finally {
      cache.stop();
    }
  });

  it('starts on an empty bucket', async () => {
    const resources = await ensureNatsResources(handle.nc, settings, silent);
    const cache = new KvCache({ kv: resources.kv.subscriptions, bucket: KV_BUCKETS.subscriptions, decode: (entry) => entry.string(), log: silent });
    await cache.start();
    try {
      assert.equal(cache.ready, true);
      assert.equal(cache.size, 0);
    } finally {
      cache.stop();
    }
  });

  it('recovers after a nats-server restart', async () => {
    const resources = await ensureNatsResources(handle.nc, settings, silent);
    const kv = resources.kv.revocations;
    await kv.put('before', '"1"');
    const cache = new KvCache<string>({ kv, bucket: KV_BUCKETS.revocations, decode: (entry) => entry.json(), log: silent, connection: handle.state });
    await cache.start();
    try {
      assert.equal(cache.get('before'), '1');

      await nats.pause();
      await waitFor(() => !handle.state.connected, 5000, 'the disconnect');
      await nats.resume();
      await waitFor(() => handle.state.connected, 15_000, 'the reconnect');

      // Written by another client after the restart: the cache must see it without any restart of its own.
      const writer = await connect({ servers: nats.url });
      try {
        const other = await ensureNatsResources(writer, settings, silent);
        await other.kv.revocations.put('after', '"2"');
        await other.kv.revocations.delete('before');
      } finally {
        await writer.close();
      }

      await waitFor(() => cache.get('after') === '2' && !cache.has('before'), 15_000, 'changes made after the restart');
    } finally {
      cache.stop();
    }
  });
});

describe('service readiness', () => {
  let nats: TestNatsServer;
  let runtime: ServiceRuntime;
  let url: string;

  before(async () => {
    nats = await TestNatsServer.start();
    const config = parseCommonConfig({ NATS_URL: nats.url, FERRY_LOG_LEVEL: 'silent', FERRY_GATEWAY_INTERNAL_PORT: '0' });
    runtime = await startRuntime('gateway', config, { installSignalHandlers: false });
    const app = createServiceApp(runtime, { health: true });
    finishServiceApp(runtime, app);
    url = `http://127.0.0.1:${await serveInternal(runtime, app, 0)}`;
  });
  after(async () => {
    await runtime.shutdown.stop();
    await nats.stop();
  });

  it('serves health, readiness and metrics', async () => {
    assert.equal((await request(`${url}/healthz`)).status, 200);
    const ready = await request(`${url}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(ready.json(), { status: 'ready', checks: { nats: { ok: true }, jetstream: { ok: true } } });

    const metrics = await request(`${url}/metrics`);
    assert.equal(metrics.status, 200);
    assert.match(metrics.body, /process_resident_memory_bytes/);
    assert.match(metrics.body, /ferry_http_requests_total\{method="GET",route="\/readyz",status="200",service="gateway"\} 1/);
  });

  it('answers unknown routes with 404 in the error shape', async () => {
    const response = await request(`${url}/nope`);
    assert.equal(response.status, 404);
    assert.deepEqual(response.json(), { code: 404, error: 'no route for GET /nope' });
  });

  it('turns 503 while NATS is down and 200 after it returns', async () => {
    await nats.pause();
    await waitFor(async () => (await request(`${url}/readyz`)).status === 503, 10_000, 'readiness to fail');
    const down = await request(`${url}/readyz`);
    assert.equal((down.json() as { checks: { nats: { reason: string } } }).checks.nats.reason, 'not connected to NATS');
    assert.equal((await request(`${url}/healthz`)).status, 200, 'liveness does not depend on NATS');

    await nats.resume();
    await waitFor(async () => (await request(`${url}/readyz`)).status === 200, 20_000, 'readiness to recover');
  });

  it('recreates resources lost with the NATS store', async () => {
    await nats.pause();
    await nats.wipeStore();
    await nats.resume();
    await waitFor(async () => (await request(`${url}/readyz`)).status === 200, 20_000, 'readiness after a wiped store');
    const info = await runtime.resources.jsm.streams.info(EVENTS_STREAM);
    assert.equal(info.config.name, EVENTS_STREAM);
  });
});
