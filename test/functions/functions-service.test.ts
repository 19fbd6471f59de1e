import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError } from '../../shared/errors/errors.ts';
import { parseFunctionsConfig } from '../../services/functions/config.ts';
import { startFunctionsService, type FunctionsService } from '../../services/functions/service.ts';
import type { DispatcherService } from '../../services/dispatcher/service.ts';
import { TestNatsServer } from '../helpers/nats-server.ts';
import { request } from '../helpers/http.ts';
import { ADMIN_SECRET, LogCapture, callApi, connectClient, publishStored, startDispatcher } from '../dispatcher/support.ts';
import { RecordingServer } from './support.ts';

const FUNCTIONS: Record<string, { manifest: unknown; source: string }> = {
  echo: {
    manifest: { subscriptions: [{ source: 'commerce', types: ['echo.requested.v1'], delivery: { maxDeliver: 3, backoffDelayMs: 100, timeoutMs: 2000 } }] },
    source: `
      export const calls = [];
      export async function main(event, context) {
        calls.push(event);
        globalThis.echoCalls = calls;
        return { functionName: context.functionName, event: { ...event, data: Buffer.isBuffer(event.data) ? event.data.toString('hex') : event.data } };
      }`,
  },
  thrower: {
    manifest: { subscriptions: [] },
    source: `export function main() { throw new Error('secret internal detail'); }`,
  },
  sleeper: {
    manifest: { timeoutMs: 300, subscriptions: [] },
    source: `export function main() { return new Promise((resolve) => setTimeout(() => resolve('late'), 2000)); }`,
  },
  caller: {
    manifest: { subscriptions: [{ name: 'caller-platform', types: ['caller.run.v1'] }] },
    source: `
      export async function main(event, context) {
        const response = await context.gateway('commerce', 'orders-api')('/orders/1?x=y', { headers: { 'x-test': '1' } });
        await context.publish({ type: 'caller.done.v1', data: { status: response.status } });
        return 'done';
      }`,
  },
};

async function writeFunctions(root: string, functions: Record<string, { manifest: unknown; source: string }>): Promise<void> {
  for (const [name, { manifest, source }] of Object.entries(functions)) {
    await mkdir(path.join(root, name), { recursive: true });
    await writeFile(path.join(root, name, 'function.json'), typeof manifest === 'string' ? manifest : JSON.stringify(manifest));
    await writeFile(path.join(root, name, 'index.js'), source);
  }
}

void describe('functions service', () => {
  let nats: TestNatsServer;
  let dispatcher: DispatcherService;
  let dispatcherUrl: string;
  let functions: FunctionsService;
  let baseUrl: string;
  let gateway: RecordingServer;
  let events: RecordingServer;
  let root: string;

  const env = (functionsDir: string): Record<string, string> => ({
    NATS_URL: nats.url,
    FERRY_FUNCTIONS_INTERNAL_PORT: '0',
    FERRY_ADMIN_JWT_SECRET: ADMIN_SECRET,
    FERRY_FUNCTIONS_DIR: functionsDir,
    FERRY_DISPATCHER_URL: dispatcherUrl,
    FERRY_GATEWAY_URL: gateway.url,
    FERRY_EVENTS_URL: events.url,
    FERRY_FUNCTIONS_BODY_LIMIT_BYTES: '4096',
    FERRY_SHUTDOWN_TIMEOUT_MS: '2000',
  });

  const post = (name: string, headers: Record<string, string>, body: string | Buffer) =>
    request(`${baseUrl}/${name}`, { method: 'POST', headers, body });

  before(async () => {
    nats = await TestNatsServer.start();
    ({ service: dispatcher, baseUrl: dispatcherUrl } = await startDispatcher(nats.url));
    gateway = await RecordingServer.start();
    events = await RecordingServer.start();
    root = await mkdtemp(path.join(os.tmpdir(), 'ferry-functions-'));
    await writeFunctions(root, FUNCTIONS);
    functions = await startFunctionsService(parseFunctionsConfig(env(root)), { installSignalHandlers: false, logDestination: new LogCapture() });
    baseUrl = `http://127.0.0.1:${functions.internalPort}`;
  });

  after(async () => {
    await functions?.stop();
    await dispatcher?.stop();
    await gateway?.close();
    await events?.close();
    await nats?.stop();
    await rm(root, { recursive: true, force: true });
  });

  void it('registers subscriptions', async () => {
    await functions.registered;
    const echo = await callApi(dispatcherUrl, 'GET', '/v1/subscriptions/echo');
    assert.equal(echo.status, 200, echo.body);
    const body = echo.json() as { sink: string; source: string; types: string[]; delivery: { maxDeliver: number } };
    assert.equal(body.sink, `${baseUrl}/echo`);
    assert.equal(body.source, 'commerce');
    assert.deepEqual(body.types, ['echo.requested.v1']);
    assert.equal(body.delivery.maxDeliver, 3);
    const platform = await callApi(dispatcherUrl, 'GET', '/v1/subscriptions/caller-platform');
    assert.equal(platform.status, 200);
    assert.equal((platform.json() as { source?: string }).source, undefined);
    const ready = await request(`${baseUrl}/readyz`);
    assert.equal(ready.status, 200, ready.body);
  });

  void it('takes binary events', async () => {
    const response = await post('echo', {
      'ce-specversion': '1.0',
      'ce-id': 'b-1',
      'ce-type': 'echo.requested.v1',
      'ce-source': 'commerce%20eu',
      'ce-time': '2026-01-01T00:00:00Z',
      'ce-tenant': 'gr%C3%BC%C3%9F',
      'content-type': 'application/json',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    }, JSON.stringify({ orderCode: '7' }));
    assert.equal(response.status, 200, response.body);
    const { functionName, event } = response.json() as { functionName: string; event: Record<string, unknown> };
    assert.equal(functionName, 'echo');
    assert.equal(event.id, 'b-1');
    assert.equal(event.source, 'commerce eu');
    assert.equal(event.time, '2026-01-01T00:00:00Z');
    assert.equal(event.tenant, 'grüß');
    assert.equal(event.traceparent, '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    assert.deepEqual(event.data, { orderCode: '7' });
  });

  void it('takes structured events', async () => {
    const structured = { specversion: '1.0', id: 's-1', type: 'echo.requested.v1', source: 'commerce', data_base64: Buffer.from([1, 2, 255]).toString('base64'), datacontenttype: 'application/octet-stream' };
    const response = await post('echo', { 'content-type': 'application/cloudevents+json' }, JSON.stringify(structured));
    assert.equal(response.status, 200, response.body);
    const { event } = response.json() as { event: Record<string, unknown> };
    assert.equal(event.id, 's-1');
    assert.equal(event.data, '0102ff');
    assert.equal(event.data_base64, undefined);
  });

  void it('rejects malformed events', async () => {
    const binary = { 'ce-specversion': '1.0', 'ce-id': 'x', 'ce-type': 't', 'ce-source': 's', 'content-type': 'application/json' };
    const cases: [string, Record<string, string>, string | Buffer, number, RegExp][] = [
      ['echo', { ...binary, 'ce-id': '' }, '{}', 400, /'id' is missing/],
      ['echo', { 'ce-specversion': '0.3', 'ce-id': 'x', 'ce-type': 't', 'ce-source': 's' }, '', 400, /specversion must be "1.0"/],
      ['echo', binary, '{"broken"', 400, /not valid JSON/],
      ['echo', { ...binary, 'ce-source': '%FF%FE' }, '{}', 400, /header ce-source is not valid percent-encoded UTF-8/],
      ['echo', { 'content-type': 'application/cloudevents+json' }, '[1]', 400, /must be a JSON object/],
      ['echo', { 'content-type': 'application/cloudevents+json' }, 'nope', 400, /not valid JSON/],
      ['echo', binary, JSON.stringify({ big: 'x'.repeat(5000) }), 413, /exceeds the limit/],
      ['missing', binary, '{}', 404, /function 'missing' not found/],
    ];
    for (const [name, headers, body, status, message] of cases) {
      const response = await post(name, headers, body);
      assert.equal(response.status, status, `${JSON.stringify(headers)}: ${response.body}`);
      assert.match((response.json() as { error: string }).error, message);
    }
  });

  void it('returns 500 on throw or timeout', async () => {
    const binary = { 'ce-specversion': '1.0', 'ce-id': 'x', 'ce-type': 't', 'ce-source': 's' };
    const thrown = await post('thrower', binary, '');
    assert.equal(thrown.status, 500);
    assert.deepEqual(thrown.json(), { code: 500, error: "function 'thrower' failed" });
    assert.doesNotMatch(thrown.body, /secret internal detail/);

    const started = Date.now();
    const slow = await post('sleeper', binary, '');
    assert.equal(slow.status, 500);
    assert.match((slow.json() as { error: string }).error, /did not finish within 300 ms/);
    assert.ok(Date.now() - started < 1500, 'the timeout responded before the function finished');
  });

  void it('calls the gateway and publishes', async () => {
    gateway.handler = (_request, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    const response = await post('caller', { 'ce-specversion': '1.0', 'ce-id': 'c-1', 'ce-type': 'caller.run.v1', 'ce-source': 'platform' }, '');
    assert.equal(response.status, 200, response.body);
    assert.equal(response.body, 'done');

    const call = gateway.requests.at(-1)!;
    assert.equal(call.url, '/commerce/orders-api/orders/1?x=y');
    assert.equal(call.headers['x-test'], '1');
    const published = JSON.parse(events.requests.at(-1)!.body) as Record<string, unknown>;
    assert.equal(events.requests.at(-1)!.url, '/publish');
    assert.equal(published.type, 'caller.done.v1');
    assert.equal(published.source, 'caller');
    assert.deepEqual(published.data, { status: 200 });
  });

  void it('receives events through the dispatcher', async () => {
    await functions.registered;
    const client = await connectClient(nats.url);
    try {
      await publishStored(client.js, 'commerce', { id: 'e2e-1', type: 'echo.requested.v1', data: { via: 'dispatcher' } });
      const deadline = Date.now() + 10_000;
      let status = { delivered: 0 };
      while (status.delivered === 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        status = ((await callApi(dispatcherUrl, 'GET', '/v1/subscriptions/echo')).json() as { status: { delivered: number } }).status;
      }
      assert.equal(status.delivered, 1);
      const calls = (globalThis as { echoCalls?: Record<string, unknown>[] }).echoCalls ?? [];
      const delivered = calls.find((event) => event.id === 'e2e-1');
      assert.deepEqual(delivered?.data, { via: 'dispatcher' });
    } finally {
      await client.nc.close();
    }
  });

  void it('reports an invalid function.json by name', async () => {
    const badRoot = await mkdtemp(path.join(os.tmpdir(), 'ferry-functions-bad-'));
    try {
      await writeFunctions(badRoot, { good: FUNCTIONS.thrower!, broken: { manifest: { subscriptions: [{ types: [] }] }, source: 'export function main() {}' } });
      await assert.rejects(
        startFunctionsService(parseFunctionsConfig(env(badRoot)), { installSignalHandlers: false, logDestination: new LogCapture() }),
        (error: unknown) => error instanceof ConfigError && /^function 'broken': function.json is invalid: `subscriptions\[0\].types` must NOT have fewer than 1 items/.test(error.message),
      );
      await writeFunctions(badRoot, { broken: { manifest: '{not json', source: 'export function main() {}' } });
      await assert.rejects(startFunctionsService(parseFunctionsConfig(env(badRoot)), { installSignalHandlers: false }), /function 'broken': function.json is not valid JSON/);
      await writeFunctions(badRoot, { broken: { manifest: { subscriptions: [] }, source: 'export const handler = 1;' } });
      await assert.rejects(startFunctionsService(parseFunctionsConfig(env(badRoot)), { installSignalHandlers: false }), /function 'broken': index.js must export a function named main/);
    } finally {
      await rm(badRoot, { recursive: true, force: true });
    }
  });
});
