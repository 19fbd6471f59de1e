import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { TestNatsServer } from '../helpers/nats-server.ts';
import type { DispatcherService } from '../../services/dispatcher/service.ts';
import { TestSink, callApi, connectClient, publishStored, readMetric, sleep, startDispatcher, subscriptionBody } from './support.ts';

void describe('dispatcher delivery', () => {
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

  before(async () => {
    nats = await TestNatsServer.start();
    ({ service, baseUrl } = await startDispatcher(nats.url));
    client = await connectClient(nats.url);
  });

  after(async () => {
    await client?.nc.close();
    await service?.stop();
    await Promise.all(sinks.map((sink) => sink.close()));
    await nats?.stop();
  });

  void it('posts binary-mode CloudEvents', async () => {
    const sink = await newSink();
    const created = await callApi(baseUrl, 'POST', '/v1/subscriptions', subscriptionBody('binary-mode', sink.url));
    assert.equal(created.status, 201, created.body);

    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    await publishStored(client.js, 'commerce', {
      id: 'evt-1',
      type: 'order.created.v1',
      source: 'commerce shop "eu"',
      data: { orderCode: '42' },
      extra: { traceparent, eventtypeversion: 'v1', subject: 'grüße 100%' },
    });
    await sink.waitFor(() => sink.received.length === 1, 10_000, 'one event');

    const { headers, body } = sink.received[0]!;
    assert.equal(headers['ce-specversion'], '1.0');
    assert.equal(headers['ce-id'], 'evt-1');
    assert.equal(headers['ce-type'], 'order.created.v1');
    assert.equal(headers['ce-source'], 'commerce%20shop%20%22eu%22');
    assert.equal(headers['ce-subject'], 'gr%C3%BC%C3%9Fe%20100%25');
    assert.equal(headers['ce-eventtypeversion'], 'v1');
    assert.equal(headers['content-type'], 'application/json');
    assert.equal(headers.traceparent, traceparent);
    assert.equal(headers['ce-traceparent'], undefined);
    assert.deepEqual(JSON.parse(body.toString('utf8')), { orderCode: '42' });
  });

  void it('sends binary data and makes a traceparent', async () => {
    const sink = await newSink();
    const created = await callApi(baseUrl, 'POST', '/v1/subscriptions', subscriptionBody('binary-data', sink.url, { types: ['file.uploaded.v1'] }));
    assert.equal(created.status, 201, created.body);

    const bytes = Buffer.from([0, 1, 2, 254, 255]);
    const event = { specversion: '1.0', id: 'bin-1', type: 'file.uploaded.v1', source: 'commerce', datacontenttype: 'application/octet-stream', data_base64: bytes.toString('base64') };
    await client.js.publish('ferry.events.commerce.file.uploaded.v1', JSON.stringify(event), { msgID: 'bin-1' });
    await sink.waitFor(() => sink.received.length === 1, 10_000, 'one event');

    const received = sink.received[0]!;
    assert.deepEqual(received.body, bytes);
    assert.equal(received.headers['content-type'], 'application/octet-stream');
    assert.match(String(received.headers.traceparent), /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });

  void it('fans out to every subscription', async () => {
    const first = await newSink();
    const second = await newSink();
    const types = { types: ['cart.updated.v1'] };
    assert.equal((await callApi(baseUrl, 'POST', '/v1/subscriptions', subscriptionBody('fan-one', first.url, types))).status, 201);
    assert.equal((await callApi(baseUrl, 'POST', '/v1/subscriptions', subscriptionBody('fan-two', second.url, types))).status, 201);

    for (let i = 0; i < 5; i++) {
      await publishStored(client.js, 'commerce', { id: `fan-${i}`, type: 'cart.updated.v1' });
    }
    await first.waitFor(() => first.received.length === 5, 10_000, 'five events at the first sink');
    await second.waitFor(() => second.received.length === 5, 10_000, 'five events at the second sink');
    assert.deepEqual(first.ids().sort(), second.ids().sort());
  });

  void it('filters by type and application', async () => {
    const sink = await newSink();
    const body = subscriptionBody('filtered', sink.url, { types: ['customer.created.v1'] });
    assert.equal((await callApi(baseUrl, 'POST', '/v1/subscriptions', body)).status, 201);

    await publishStored(client.js, 'commerce', { id: 'other-type', type: 'customer.deleted.v1' });
    await publishStored(client.js, 'crm', { id: 'other-app', type: 'customer.created.v1' });
    await publishStored(client.js, undefined, { id: 'platform', type: 'customer.created.v1' });
    await publishStored(client.js, 'commerce', { id: 'match', type: 'customer.created.v1' });
    await sink.waitFor(() => sink.received.length >= 1, 10_000, 'the matching event');
    await sleep(1000);

    assert.deepEqual(sink.ids(), ['match']);
  });

  void it('matches exact types from any source', async () => {
    const sink = await newSink();
    const body = subscriptionBody('exact-any', sink.url, { types: ['invoice.paid.v1'], typeMatching: 'exact', source: undefined });
    assert.equal((await callApi(baseUrl, 'POST', '/v1/subscriptions', body)).status, 201);

    await publishStored(client.js, 'commerce', { id: 'exact-commerce', type: 'invoice.paid.v1' });
    await publishStored(client.js, 'erp', { id: 'exact-erp', type: 'invoice.paid.v1' });
    await publishStored(client.js, undefined, { id: 'exact-platform', type: 'invoice.paid.v1' });
    await publishStored(client.js, 'erp', { id: 'exact-other', type: 'invoice.paid.v2' });
    await sink.waitFor(() => sink.received.length >= 3, 10_000, 'three events');
    await sleep(500);

    assert.deepEqual(sink.ids().sort(), ['exact-commerce', 'exact-erp', 'exact-platform']);
  });

  void it('keeps order with one in flight', async () => {
    const sink = await newSink();
    let calls = 0;
    sink.handler = (_event, res) => {
      calls++;
      // Every third first attempt fails, so order must survive retries.
      setTimeout(() => res.writeHead(calls % 3 === 0 ? 503 : 204).end(), 5);
    };
    const body = subscriptionBody('ordered', sink.url, {
      types: ['stock.changed.v1'],
      config: { maxInFlightMessages: 1 },
      delivery: { maxDeliver: 20, backoff: 'linear', backoffDelayMs: 50, maxBackoffMs: 100, timeoutMs: 2000 },
    });
    assert.equal((await callApi(baseUrl, 'POST', '/v1/subscriptions', body)).status, 201);

    const expected = Array.from({ length: 30 }, (_, i) => `stock-${i}`);
    for (const id of expected) {
      await publishStored(client.js, 'commerce', { id, type: 'stock.changed.v1' });
    }
    await sink.waitFor(() => sink.received.filter((event) => event.headers['ce-id'] === 'stock-29').length > 0, 30_000, 'the last event');
    await sleep(300);

    const delivered: string[] = [];
    for (const id of sink.ids()) {
      if (delivered.at(-1) !== id) {
        delivered.push(id);
      }
    }
    assert.deepEqual(delivered, expected);
  });

  void it('reports counts in status and metrics', async () => {
    const status = await callApi(baseUrl, 'GET', '/v1/subscriptions/fan-one');
    assert.equal(status.status, 200);
    const body = status.json() as { status: { ready: boolean; delivered: number; consumers: { exists: boolean; pending: number }[] } };
    assert.equal(body.status.ready, true);
    assert.equal(body.status.delivered, 5);
    assert.equal(body.status.consumers.length, 1);
    assert.equal(body.status.consumers[0]!.exists, true);

    const metrics = await callApi(baseUrl, 'GET', '/metrics');
    assert.equal(readMetric(metrics.body, 'ferry_dispatcher_events_delivered_total', { subscription: 'fan-one' }), 5);
    assert.equal(readMetric(metrics.body, 'ferry_dispatcher_delivery_duration_seconds_count', { subscription: 'fan-one' }), 5);
    assert.equal(readMetric(metrics.body, 'ferry_dispatcher_event_age_seconds_count', { subscription: 'fan-one' }), 5);
    assert.ok((readMetric(metrics.body, 'ferry_dispatcher_delivery_failures_total', { subscription: 'ordered', reason: '503' }) ?? 0) >= 1);
  });
});
