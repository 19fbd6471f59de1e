import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { COMMERCE_SERVICE, main } from '../../functions/order-enricher/index.ts';
import { createFunctionContext } from '../../services/functions/function-context.ts';
import type { FunctionEvent } from '../../services/functions/function-event.ts';
import { RecordingServer } from './support.ts';

const ORDER = { code: '00012345', totalPriceWithTax: { value: 129.99, currencyIso: 'EUR' }, totalPrice: { value: 109.23, currencyIso: 'EUR' } };

function orderCreated(data: Record<string, unknown>): FunctionEvent {
  return { specversion: '1.0', id: 'evt-1', type: 'order.created.v1', source: 'commerce', data };
}

void describe('order-enricher function', () => {
  let gateway: RecordingServer;
  let events: RecordingServer;

  const context = () => createFunctionContext('order-enricher', pino({ level: 'silent' }), { gatewayUrl: gateway.url, eventsUrl: events.url, timeoutMs: 5000 }, new AbortController().signal);

  before(async () => {
    gateway = await RecordingServer.start();
    events = await RecordingServer.start();
  });

  after(async () => {
    await gateway.close();
    await events.close();
  });

  void it('publishes the order total', async () => {
    gateway.handler = (_request, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(ORDER));

    const result = await main(orderCreated({ orderCode: '00012345', baseSiteUid: 'electronics' }), context());

    assert.deepEqual(result, { orderCode: '00012345', total: 129.99 });
    const call = gateway.requests.at(-1)!;
    assert.equal(call.method, 'GET');
    assert.equal(call.url, `/commerce/${COMMERCE_SERVICE}/rest/v2/electronics/orders/00012345?fields=FULL`);
    const published = events.requests.at(-1)!;
    assert.equal(published.url, '/publish');
    assert.equal(published.headers['content-type'], 'application/cloudevents+json');
    const event = JSON.parse(published.body) as Record<string, unknown>;
    assert.equal(event.specversion, '1.0');
    assert.equal(event.type, 'order.enriched.v1');
    assert.equal(event.source, 'order-enricher');
    assert.equal(typeof event.id, 'string');
    assert.deepEqual(event.data, { orderCode: '00012345', baseSiteId: 'electronics', total: 129.99, currency: 'EUR' });
  });

  void it('fails when the order is missing', async () => {
    gateway.handler = (_request, res) => res.writeHead(404).end();
    const published = events.requests.length;
    await assert.rejects(main(orderCreated({ orderCode: 'nope', baseSiteUid: 'electronics' }), context()), /commerce responded with 404 for order nope/);
    assert.equal(events.requests.length, published);
  });

  void it('rejects events without an order code', async () => {
    const calls = gateway.requests.length;
    await assert.rejects(main(orderCreated({ baseSiteUid: 'electronics' }), context()), /no orderCode/);
    await assert.rejects(main(orderCreated({ orderCode: '1' }), context()), /no baseSiteUid/);
    assert.equal(gateway.requests.length, calls);
  });

  void it('fails when publishing fails', async () => {
    gateway.handler = (_request, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(ORDER));
    events.handler = (_request, res) => res.writeHead(503).end('stream unavailable');
    await assert.rejects(main(orderCreated({ orderCode: '00012345', baseSiteUid: 'electronics' }), context()), /events service responded with 503/);
    events.handler = (_request, res) => res.writeHead(204).end();
  });
});
