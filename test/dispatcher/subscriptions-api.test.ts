import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { EVENTS_STREAM, KV_BUCKETS } from '../../shared/nats/names.ts';
import { TestNatsServer } from '../helpers/nats-server.ts';
import { request } from '../helpers/http.ts';
import type { DispatcherService } from '../../services/dispatcher/service.ts';
import { TestSink, adminToken, callApi, connectClient, publishStored, sleep, startDispatcher, subscriptionBody } from './support.ts';

type SubscriptionView = {
  name: string;
  sink: string;
  types: string[];
  config: { maxInFlightMessages: number };
  delivery: { maxDeliver: number; backoff: string; timeoutMs: number; deadLetter: boolean };
  createdAt: string;
  updatedAt: string;
  status: { ready: boolean; consumers: { name: string; type: string; exists: boolean; pending: number }[] };
};

void describe('subscriptions API', () => {
  let nats: TestNatsServer;
  let service: DispatcherService;
  let baseUrl: string;
  let client: { nc: NatsConnection; js: JetStreamClient };
  let jsm: JetStreamManager;
  let sink: TestSink;

  const storedRecord = async (name: string): Promise<Record<string, unknown> | undefined> => {
    const kv = await new Kvm(client.js).open(KV_BUCKETS.subscriptions);
    const entry = await kv.get(name);
    return entry === null || entry.operation !== 'PUT' ? undefined : entry.json<Record<string, unknown>>();
  };

  const consumerNames = async (): Promise<string[]> => {
    const names: string[] = [];
    for await (const info of jsm.consumers.list(EVENTS_STREAM)) {
      names.push(info.name);
    }
    return names.sort();
  };

  before(async () => {
    nats = await TestNatsServer.start();
    ({ service, baseUrl } = await startDispatcher(nats.url));
    client = await connectClient(nats.url);
    jsm = await jetstreamManager(client.nc);
    sink = await TestSink.start();
  });

  after(async () => {
    await client?.nc.close();
    await service?.stop();
    await sink?.close();
    await nats?.stop();
  });

  void it('creates with defaults', async () => {
    const response = await callApi(baseUrl, 'POST', '/v1/subscriptions', { name: 'defaults', sink: sink.url, source: 'commerce', types: ['order.created.v1', 'order.created.v1'] });
    assert.equal(response.status, 201, response.body);
    const body = response.json() as SubscriptionView;
    assert.deepEqual(body.types, ['order.created.v1']);
    assert.equal(body.config.maxInFlightMessages, 10);
    assert.deepEqual(body.delivery, { maxDeliver: 10, backoff: 'exponential', backoffDelayMs: 500, maxBackoffMs: 60_000, timeoutMs: 10_000, deadLetter: true });
    assert.equal(body.status.ready, true);
    assert.equal(body.status.consumers.length, 1);

    const stored = await storedRecord('defaults');
    assert.deepEqual(Object.keys(stored!).sort(), ['config', 'createdAt', 'delivery', 'name', 'sink', 'source', 'typeMatching', 'types', 'updatedAt']);
    assert.equal(stored!.typeMatching, 'standard');
    assert.deepEqual(await consumerNames(), [body.status.consumers[0]!.name]);
  });

  void it('rejects a duplicate name', async () => {
    const response = await callApi(baseUrl, 'POST', '/v1/subscriptions', subscriptionBody('defaults', sink.url));
    assert.equal(response.status, 409);
    assert.deepEqual(response.json(), { code: 409, error: "subscription 'defaults' already exists" });
  });

  void it('rejects invalid bodies', async () => {
    const long = 'x'.repeat(251);
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ sink: sink.url, types: ['a.v1'] }, /^`name` is required$/],
      [{ name: 'Upper', sink: sink.url, types: ['a.v1'] }, /^`name` must match pattern .*, got "Upper"$/],
      [{ name: 'a'.repeat(64), sink: sink.url, types: ['a.v1'] }, /^`name` must match pattern/],
      [{ name: 'x', types: ['a.v1'] }, /^`sink` is required$/],
      [{ name: 'x', sink: sink.url }, /^`types` is required$/],
      [{ name: 'x', sink: sink.url, types: [] }, /^`types` must NOT have fewer than 1 items/],
      [{ name: 'x', sink: sink.url, types: [''] }, /^`types\[0\]` must NOT have fewer than 1 characters/],
      [{ name: 'x', sink: sink.url, types: [long] }, /^`types\[0\]` must NOT have more than 250 characters/],
      [{ name: 'x', sink: sink.url, types: [42] }, /^`types\[0\]` must be string, got 42$/],
      [{ name: 'x', sink: sink.url, types: ['a.v1'], typeMatching: 'prefix' }, /^`typeMatching` must be one of "standard", "exact", got "prefix"$/],
      [{ name: 'x', sink: sink.url, types: ['a.v1'], source: 'Bad_App' }, /^`source` must match pattern/],
      [{ name: 'x', sink: sink.url, types: ['a.v1'], config: { maxInFlightMessages: 0 } }, /^`config.maxInFlightMessages` must be >= 1, got 0$/],
      [{ name: 'x', sink: sink.url, types: ['a.v1'], delivery: { maxDeliver: 'ten' } }, /^`delivery.maxDeliver` must be integer, got "ten"$/],
      [{ name: 'x', sink: sink.url, types: ['a.v1'], delivery: { backoff: 'random' } }, /^`delivery.backoff` must be one of/],
      [{ name: 'x', sink: sink.url, types: ['a.v1'], delivery: { timeoutMs: 10 } }, /^`delivery.timeoutMs` must be >= 100/],
      [{ name: 'x', sink: sink.url, types: ['a.v1'], delivery: { backoffDelayMs: 1000, maxBackoffMs: 10 } }, /^`delivery.maxBackoffMs` must be at least/],
      [{ name: 'x', sink: sink.url, types: ['a.v1'], filter: 'x' }, /^`filter` is not a known field$/],
      [{ name: 'x', sink: sink.url, types: ['a.v1'], delivery: { retries: 1 } }, /^`delivery.retries` is not a known field$/],
      [{ name: 'x', sink: 'not a url', types: ['a.v1'] }, /^`sink` must be an absolute http\(s\) URL, got 'not a url'$/],
      [{ name: 'x', sink: 'ftp://127.0.0.1/x', types: ['a.v1'] }, /^`sink` must be an absolute http\(s\) URL/],
      [{ name: 'x', sink: 'http://user:pass@127.0.0.1/x', types: ['a.v1'] }, /^`sink` must not contain credentials$/],
      [{ name: 'x', sink: 'http://169.254.169.254/latest/meta-data', types: ['a.v1'] }, /^`sink` is denied by the egress policy: 169.254.169.254 is a cloud metadata address$/],
      [{ name: 'x', sink: 'http://10.1.2.3/events', types: ['a.v1'] }, /^`sink` is denied by the egress policy: 10.1.2.3 is a private address$/],
      [{ name: 'x', sink: 'http://[fe80::1]/events', types: ['a.v1'] }, /^`sink` is denied by the egress policy/],
    ];
    for (const [body, message] of cases) {
      const response = await callApi(baseUrl, 'POST', '/v1/subscriptions', body);
      assert.equal(response.status, 400, `${JSON.stringify(body)}: ${response.body}`);
      const error = response.json() as { code: number; error: string };
      assert.equal(error.code, 400);
      assert.match(error.error, message);
    }
    assert.equal(await storedRecord('x'), undefined);
  });

  void it('rejects malformed and oversized requests', async () => {
    const token = await adminToken();
    const post = (body: string, contentType: string): ReturnType<typeof request> =>
      request(`${baseUrl}/v1/subscriptions`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': contentType }, body });

    const malformed = await post('{"name": "x",', 'application/json');
    assert.equal(malformed.status, 400);
    assert.deepEqual(malformed.json(), { code: 400, error: 'request body is not valid JSON' });

    const array = await post('[1,2]', 'application/json');
    assert.equal(array.status, 400);
    assert.equal((array.json() as { error: string }).error, 'request body must be a JSON object');

    const text = await post('name=x', 'text/plain');
    assert.equal(text.status, 415);

    const oversized = await post(JSON.stringify(subscriptionBody('big', sink.url, { padding: 'x'.repeat(70_000) })), 'application/json');
    assert.equal(oversized.status, 413);
    assert.equal(await storedRecord('big'), undefined);
  });

  void it('requires an admin token', async () => {
    const anonymous = await request(`${baseUrl}/v1/subscriptions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(subscriptionBody('anon', sink.url)) });
    assert.equal(anonymous.status, 401);
    const forged = await callApi(baseUrl, 'GET', '/v1/subscriptions/defaults', undefined, 'eyJhbGciOiJub25lIn0.eyJyb2xlcyI6WyJhZG1pbiJdfQ.');
    assert.equal(forged.status, 401);

    const viewer = await adminToken(['viewer']);
    const write = await callApi(baseUrl, 'POST', '/v1/subscriptions', subscriptionBody('viewer-made', sink.url), viewer);
    assert.equal(write.status, 403);
    const read = await callApi(baseUrl, 'GET', '/v1/subscriptions/defaults', undefined, viewer);
    assert.equal(read.status, 200);
    const list = await callApi(baseUrl, 'GET', '/v1/subscriptions', undefined, viewer);
    assert.equal(list.status, 200);
    assert.ok((list.json() as { subscriptions: { name: string }[] }).subscriptions.some((entry) => entry.name === 'defaults'));
    assert.equal(await storedRecord('viewer-made'), undefined);
  });

  void it('rejects unknown and invalid names', async () => {
    const missing = await callApi(baseUrl, 'GET', '/v1/subscriptions/no-such');
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.json(), { code: 404, error: "subscription 'no-such' not found" });
    const bad = await callApi(baseUrl, 'GET', '/v1/subscriptions/Bad..name');
    assert.equal(bad.status, 400);
    const updateMissing = await callApi(baseUrl, 'PUT', '/v1/subscriptions/no-such', subscriptionBody('no-such', sink.url));
    assert.equal(updateMissing.status, 404);
    const deleteMissing = await callApi(baseUrl, 'DELETE', '/v1/subscriptions/no-such');
    assert.equal(deleteMissing.status, 404);
    const mismatch = await callApi(baseUrl, 'PUT', '/v1/subscriptions/defaults', subscriptionBody('other', sink.url));
    assert.equal(mismatch.status, 400);
    assert.match((mismatch.json() as { error: string }).error, /`name` must match the path/);
  });

  void it('updates and keeps pending events', async () => {
    const down = await TestSink.start();
    down.handler = (_event, res) => res.writeHead(503).end();
    const created = await callApi(baseUrl, 'POST', '/v1/subscriptions', subscriptionBody('updated', down.url, {
      types: ['price.changed.v1', 'price.removed.v1'],
      delivery: { maxDeliver: 100, backoff: 'linear', backoffDelayMs: 300, maxBackoffMs: 300, timeoutMs: 2000 },
    }));
    assert.equal(created.status, 201, created.body);
    const before = created.json() as SubscriptionView;
    for (let i = 0; i < 5; i++) {
      await publishStored(client.js, 'commerce', { id: `price-${i}`, type: 'price.changed.v1' });
    }
    await down.waitFor(() => new Set(down.ids()).size === 5, 10_000, 'first attempts of five events');

    const update = subscriptionBody('updated', sink.url, {
      types: ['price.changed.v1'],
      config: { maxInFlightMessages: 3 },
      delivery: { maxDeliver: 100, backoff: 'linear', backoffDelayMs: 300, maxBackoffMs: 300, timeoutMs: 2000 },
    });
    delete update.name;
    const updated = await callApi(baseUrl, 'PUT', '/v1/subscriptions/updated', update);
    assert.equal(updated.status, 200, updated.body);
    const after = updated.json() as SubscriptionView;
    assert.equal(after.createdAt, before.createdAt);
    assert.notEqual(after.updatedAt, before.updatedAt);
    assert.equal(after.config.maxInFlightMessages, 3);
    assert.deepEqual(after.status.consumers.map((consumer) => consumer.type), ['price.changed.v1']);

    await sink.waitFor(() => ['0', '1', '2', '3', '4'].every((i) => sink.ids().includes(`price-${i}`)), 15_000, 'the pending events at the new sink');
    const removed = before.status.consumers.find((consumer) => consumer.type === 'price.removed.v1')!;
    assert.ok(!(await consumerNames()).includes(removed.name));
    const info = await jsm.consumers.info(EVENTS_STREAM, after.status.consumers[0]!.name);
    assert.equal(info.config.max_ack_pending, 3);
    await down.close();
  });

  void it('deletes with its consumers', async () => {
    const created = (await callApi(baseUrl, 'POST', '/v1/subscriptions', subscriptionBody('deleted', sink.url, { types: ['a.v1', 'b.v1'] }))).json() as SubscriptionView;
    const names = created.status.consumers.map((consumer) => consumer.name);
    assert.equal(names.length, 2);

    const response = await callApi(baseUrl, 'DELETE', '/v1/subscriptions/deleted');
    assert.equal(response.status, 204);
    assert.equal(await storedRecord('deleted'), undefined);
    const remaining = await consumerNames();
    for (const name of names) {
      assert.ok(!remaining.includes(name), `consumer ${name} still exists`);
    }
    assert.equal((await callApi(baseUrl, 'GET', '/v1/subscriptions/deleted')).status, 404);

    const received = sink.received.length;
    await publishStored(client.js, 'commerce', { id: 'after-delete', type: 'a.v1' });
    await sleep(1000);
    assert.equal(sink.received.length, received);
  });
});
