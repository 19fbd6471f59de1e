import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { issueAdminToken } from '../../shared/auth/issue-admin-token.ts';
import { createStoredEventMessageId } from '../../shared/events/stored-event.ts';
import { createCertificateAuthority } from '../../shared/pki/certificates.ts';
import { request } from '../helpers/http.ts';
import { binaryHeaders, startHarness, waitUntil, type Harness, type StoredMessage } from './harness.ts';
import type { TestClientCertificate } from '../helpers/pki.ts';

const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

function legacyBody(overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({ 'event-type': 'order.created', 'event-type-version': 'v1', 'event-time': '2024-05-01T10:00:00Z', data: { orderCode: '42' }, ...overrides });
}

function withId(messages: StoredMessage[], id: string): StoredMessage[] {
  return messages.filter((message) => message.event.attributes.id === id);
}

describe('events ingress', () => {
  let h: Harness;
  let commerce: TestClientCertificate;
  let crm: TestClientCertificate;

  before(async () => {
    h = await startHarness();
    commerce = await h.addApplication('commerce');
    crm = await h.addApplication('crm');
  });

  after(async () => {
    await h.close();
  });

  describe('CloudEvents routes', () => {
    it('stores a binary event', async () => {
      const headers = binaryHeaders({ 'ce-time': '2024-05-01T10:00:00Z', 'ce-ordercode': '42' });

      const response = await h.send('/commerce/events', { client: commerce, headers, body: '{"orderCode": "42", "total": 1.50}' });

      assert.equal(response.status, 204);
      assert.match(String(response.headers['x-request-id']), /^[0-9a-f-]{36}$/);
      const [stored] = withId(await h.storedMessages(), headers['ce-id']!);
      assert.equal(stored?.subject, 'ferry.events.commerce.order.created.v1');
      assert.equal(stored.messageId, createStoredEventMessageId('commerce', '/commerce/orders', headers['ce-id']!));
      assert.equal(stored.contentType, 'application/cloudevents+json');
      assert.deepEqual(stored.event.attributes, {
        specversion: '1.0',
        id: headers['ce-id'],
        source: '/commerce/orders',
        type: 'order.created.v1',
        time: '2024-05-01T10:00:00Z',
        ordercode: '42',
        datacontenttype: 'application/json',
      });
      assert.deepEqual(stored.event.data, { kind: 'json', value: { orderCode: '42', total: 1.5 } });
    });

    it('serves /{app}/v2/events like /{app}/events', async () => {
      const headers = binaryHeaders();

      const response = await h.send('/commerce/v2/events', { client: commerce, headers, body: '{}' });

      assert.equal(response.status, 204);
      assert.equal(withId(await h.storedMessages(), headers['ce-id']!).length, 1);
    });

    it('stores a structured event', async () => {
      const id = randomUUID();
      const body = JSON.stringify({ specversion: '1.0', id, source: '/c', type: 'order.shipped.v1', count: 3, data: [1, 2] });

      const response = await h.send('/commerce/events', { client: commerce, headers: { 'content-type': 'application/cloudevents+json; charset=UTF-8' }, body });

      assert.equal(response.status, 204);
      const [stored] = withId(await h.storedMessages(), id);
      assert.equal(stored?.subject, 'ferry.events.commerce.order.shipped.v1');
      assert.equal(stored.event.attributes.count, 3);
      assert.deepEqual(stored.event.data, { kind: 'json', value: [1, 2] });
    });

    it('stores JSON data verbatim', async () => {
      const data = '{ "total": 1.50, "orderId": 12345678901234567890 }';
      const headers = binaryHeaders();
      const id = randomUUID();
      const structured = `{"specversion":"1.0","id":"${id}","source":"/c","type":"order.created.v1","data": ${data}}`;

      await h.send('/commerce/events', { client: commerce, headers, body: data });
      await h.send('/commerce/events', { client: commerce, headers: { 'content-type': 'application/cloudevents+json' }, body: structured });

      const messages = await h.storedMessages();
      assert.ok(withId(messages, headers['ce-id']!)[0]?.body.endsWith(`,"data":${data}}`));
      assert.ok(withId(messages, id)[0]?.body.endsWith(`,"data":${data}}`));
    });

    it('stores XML and text bodies unchanged', async () => {
      const xml = '<?xml version="1.0"?>\n<order  id="42"><total>1.50</total></order>\n';
      const xmlHeaders = binaryHeaders({ 'content-type': 'application/xml' });
      const textHeaders = binaryHeaders({ 'content-type': 'text/plain; charset=utf-8' });

      assert.equal((await h.send('/commerce/events', { client: commerce, headers: xmlHeaders, body: xml })).status, 204);
      assert.equal((await h.send('/commerce/events', { client: commerce, headers: textHeaders, body: 'Grüße\r\n' })).status, 204);

      const messages = await h.storedMessages();
      assert.deepEqual(withId(messages, xmlHeaders['ce-id']!)[0]?.event.data, { kind: 'binary', bytes: Buffer.from(xml) });
      assert.deepEqual(withId(messages, textHeaders['ce-id']!)[0]?.event.data, { kind: 'binary', bytes: Buffer.from('Grüße\r\n') });
    });

    it('stores binary bodies byte for byte', async () => {
      const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      const headers = binaryHeaders({ 'content-type': 'application/octet-stream' });

      assert.equal((await h.send('/commerce/events', { client: commerce, headers, body: bytes })).status, 204);

      assert.deepEqual(withId(await h.storedMessages(), headers['ce-id']!)[0]?.event.data, { kind: 'binary', bytes });
    });

    it('percent-decodes ce- headers', async () => {
      const headers = binaryHeaders({ 'ce-subject': 'Euro%20%E2%82%AC%20%F0%9F%98%80', 'ce-note': 'lower%e2%82%ac' });

      assert.equal((await h.send('/commerce/events', { client: commerce, headers, body: '{}' })).status, 204);

      const [stored] = withId(await h.storedMessages(), headers['ce-id']!);
      assert.equal(stored?.event.attributes.subject, 'Euro € 😀');
      assert.equal(stored.event.attributes.note, 'lower€');
    });

    it('rejects invalid UTF-8 in a ce- header', async () => {
      const response = await h.send('/commerce/events', { client: commerce, headers: binaryHeaders({ 'ce-subject': '%C0%A0' }), body: '{}' });

      assert.equal(response.status, 400);
      assert.deepEqual(response.json(), { code: 400, error: 'subject: header value is not valid UTF-8 once percent-decoded' });
    });

    it('answers 400 with the attribute and problem', async () => {
      const cases: [Record<string, string>, string][] = [
        [binaryHeaders({ 'ce-id': '' }), 'id: must not be empty'],
        [binaryHeaders({ 'ce-time': '2024-05-01T10:00Z' }), 'time: must be an RFC 3339 timestamp with seconds and a valid offset, got "2024-05-01T10:00Z"'],
        [binaryHeaders({ 'ce-specversion': '2.0' }), 'specversion: must be "1.0" or "0.3", got "2.0"'],
        [binaryHeaders({ 'ce-my-ext': 'x' }), 'my-ext: is not a valid attribute name: use lower-case letters a-z and digits 0-9 only'],
        [binaryHeaders({ 'ce-datacontenttype': 'application/json' }), 'datacontenttype: must not be sent as a ce-datacontenttype header in binary mode: use Content-Type'],
      ];

      for (const [headers, error] of cases) {
        const response = await h.send('/commerce/events', { client: commerce, headers, body: '{}' });

        assert.equal(response.status, 400, error);
        assert.deepEqual(response.json(), { code: 400, error });
      }
    });

    it('requires ce-specversion in binary mode', async () => {
      const headers = binaryHeaders();
      delete headers['ce-specversion'];

      const response = await h.send('/commerce/events', { client: commerce, headers, body: '{}' });

      assert.deepEqual(response.json(), { code: 400, error: 'specversion: is required' });
    });

    it('stores a whole batch', async () => {
      const ids = [randomUUID(), randomUUID(), randomUUID()];
      const body = JSON.stringify([
        { specversion: '1.0', id: ids[0], source: '/c', type: 'order.created.v1', data: { n: 1 } },
        { specversion: '1.0', id: ids[1], source: '/c', type: 'order.created.v1', datacontenttype: 'application/xml', data: '<a/>' },
        { specversion: '1.0', id: ids[2], source: '/c', type: 'order.created.v1', data_base64: 'AAE=' },
      ]);

      const response = await h.send('/commerce/events', { client: commerce, headers: { 'content-type': 'application/cloudevents-batch+json' }, body });

      assert.equal(response.status, 204);
      const messages = await h.storedMessages();
      for (const id of ids) {
        assert.equal(withId(messages, id).length, 1, id);
      }
    });

    it('stores nothing of an invalid batch', async () => {
      const ids = [randomUUID(), randomUUID()];
      const body = JSON.stringify([
        { specversion: '1.0', id: ids[0], source: '/c', type: 'order.created.v1' },
        { specversion: '1.0', id: ids[1], source: '/c', type: 'order.created.v1', time: 'now' },
      ]);

      const response = await h.send('/commerce/events', { client: commerce, headers: { 'content-type': 'application/cloudevents-batch+json' }, body });

      assert.deepEqual(response.json(), { code: 400, error: 'batch[1].time: must be an RFC 3339 timestamp with seconds and a valid offset, got "now"' });
      const messages = await h.storedMessages();
      assert.equal(withId(messages, ids[0]!).length, 0);
      assert.equal(withId(messages, ids[1]!).length, 0);
    });

    it('rejects a mixed-version batch', async () => {
      const body = JSON.stringify([
        { specversion: '0.3', id: randomUUID(), source: '/c', type: 'a' },
        { specversion: '1.0', id: randomUUID(), source: '/c', type: 'a' },
      ]);

      const response = await h.send('/commerce/events', { client: commerce, headers: { 'content-type': 'application/cloudevents-batch+json' }, body });

      assert.deepEqual(response.json(), { code: 400, error: 'batch[1].specversion: must be "0.3" like the first event of the batch, got "1.0"' });
    });

    it('names the index of an overlong type', async () => {
      const body = JSON.stringify([{ specversion: '1.0', id: randomUUID(), source: '/c', type: '>'.repeat(400) }]);

      const response = await h.send('/commerce/events', { client: commerce, headers: { 'content-type': 'application/cloudevents-batch+json' }, body });

      assert.equal(response.status, 400);
      assert.match((response.json() as { error: string }).error, /^batch\[0\]\.type: is too long: its NATS subject would have \d+ bytes, over the limit of 1024$/);
    });

    it('accepts an empty batch', async () => {
      const response = await h.send('/commerce/events', { client: commerce, headers: { 'content-type': 'application/cloudevents-batch+json' }, body: '[]' });

      assert.equal(response.status, 204);
    });

    it('stores a 0.3 event as 1.0', async () => {
      const id = randomUUID();
      const body = JSON.stringify({ specversion: '0.3', id, source: '/c', type: 'a.v1', schemaurl: 'https://x.example/a.json', datacontentencoding: 'base64', data: 'PGEvPg==' });

      assert.equal((await h.send('/commerce/events', { client: commerce, headers: { 'content-type': 'application/cloudevents+json' }, body })).status, 204);

      const [stored] = withId(await h.storedMessages(), id);
      assert.deepEqual(stored?.event.attributes, { specversion: '1.0', id, source: '/c', type: 'a.v1', dataschema: 'https://x.example/a.json' });
      assert.deepEqual(stored.event.data, { kind: 'binary', bytes: Buffer.from('<a/>') });
    });

    it('keeps the traceparent header as an extension', async () => {
      const headers = binaryHeaders({ traceparent: TRACEPARENT, tracestate: 'congo=t61rcWkgMzE' });

      assert.equal((await h.send('/commerce/events', { client: commerce, headers, body: '{}' })).status, 204);

      const [stored] = withId(await h.storedMessages(), headers['ce-id']!);
      assert.equal(stored?.event.attributes.traceparent, TRACEPARENT);
      assert.equal(stored.event.attributes.tracestate, 'congo=t61rcWkgMzE');
    });

    it('separates special-character types', async () => {
      const special = binaryHeaders({ 'ce-type': 'system>prod' });
      const plain = binaryHeaders({ 'ce-type': 'systemprod' });

      await h.send('/commerce/events', { client: commerce, headers: special, body: '{}' });
      await h.send('/commerce/events', { client: commerce, headers: plain, body: '{}' });

      const messages = await h.storedMessages();
      assert.equal(withId(messages, special['ce-id']!)[0]?.subject, 'ferry.events.commerce.system~3Eprod');
      assert.equal(withId(messages, plain['ce-id']!)[0]?.subject, 'ferry.events.commerce.systemprod');
    });
  });

  describe('deduplication', () => {
    it('stores the same event sent twice once', async () => {
      const headers = binaryHeaders();

      const first = await h.send('/commerce/events', { client: commerce, headers, body: '{"n":1}' });
      const second = await h.send('/commerce/events', { client: commerce, headers, body: '{"n":1}' });

      assert.equal(first.status, 204);
      assert.equal(second.status, 204);
      assert.equal(withId(await h.storedMessages(), headers['ce-id']!).length, 1);
    });

    it('deduplicates across content modes', async () => {
      const headers = binaryHeaders();
      const structured = JSON.stringify({ specversion: '1.0', id: headers['ce-id'], source: headers['ce-source'], type: headers['ce-type'], data: {} });

      await h.send('/commerce/events', { client: commerce, headers, body: '{}' });
      await h.send('/commerce/events', { client: commerce, headers: { 'content-type': 'application/cloudevents+json' }, body: structured });

      assert.equal(withId(await h.storedMessages(), headers['ce-id']!).length, 1);
    });

    it('stores the same legacy event-id once', async () => {
      const eventId = randomUUID();

      for (let i = 0; i < 2; i++) {
        const response = await h.send('/commerce/v1/events', { client: commerce, headers: { 'content-type': 'application/json' }, body: legacyBody({ 'event-id': eventId }) });
        assert.equal(response.status, 200);
      }

      assert.equal(withId(await h.storedMessages(), eventId).length, 1);
    });

    it('keeps other sources and applications apart', async () => {
      const headers = binaryHeaders();

      await h.send('/commerce/events', { client: commerce, headers, body: '{}' });
      await h.send('/commerce/events', { client: commerce, headers: { ...headers, 'ce-source': '/other' }, body: '{}' });
      await h.send('/crm/events', { client: crm, headers, body: '{}' });

      assert.equal(withId(await h.storedMessages(), headers['ce-id']!).length, 3);
    });
  });

  describe('legacy route', () => {
    it('stores a legacy event once', async () => {
      const eventId = randomUUID();

      const response = await h.send('/commerce/v1/events', { client: commerce, headers: { 'content-type': 'application/json', traceparent: TRACEPARENT }, body: legacyBody({ 'event-id': eventId }) });

      assert.equal(response.status, 200);
      assert.deepEqual(response.json(), { 'event-id': eventId, status: '', reason: '' });
      const stored = withId(await h.storedMessages(), eventId);
      assert.equal(stored.length, 1);
      assert.equal(stored[0]!.subject, 'ferry.events.commerce.order.created.v1');
      assert.deepEqual(stored[0]!.event.attributes, {
        specversion: '1.0',
        id: eventId,
        source: 'commerce',
        type: 'order.created.v1',
        time: '2024-05-01T10:00:00Z',
        datacontenttype: 'application/json',
        eventtypeversion: 'v1',
        traceparent: TRACEPARENT,
      });
      assert.deepEqual(stored[0]!.event.data, { kind: 'json', value: { orderCode: '42' } });
    });

    it('stores legacy data verbatim', async () => {
      const eventId = randomUUID();
      const body = `{"event-type":"order.created","event-type-version":"v1","event-id":"${eventId}","event-time":"2024-05-01T10:00:00Z","data":{"total": 1.50}}`;

      assert.equal((await h.send('/commerce/v1/events', { client: commerce, body })).status, 200);

      assert.ok(withId(await h.storedMessages(), eventId)[0]?.body.endsWith(',"data":{"total": 1.50}}'));
    });

    it('generates an event-id', async () => {
      const response = await h.send('/commerce/v1/events', { client: commerce, headers: { 'content-type': 'application/json' }, body: legacyBody() });

      const { 'event-id': eventId } = response.json() as { 'event-id': string };
      assert.match(eventId, /^[0-9a-f-]{36}$/);
      assert.equal(withId(await h.storedMessages(), eventId).length, 1);
    });

    it('answers a missing field', async () => {
      const response = await h.send('/commerce/v1/events', { client: commerce, body: legacyBody({ data: null }) });

      assert.equal(response.status, 400);
      assert.deepEqual(response.json(), {
        status: 400,
        type: 'validation_violation',
        message: 'data is required',
        details: [{ field: 'data', type: 'missing_field', message: 'data is required' }],
      });
    });

    it('answers an invalid field', async () => {
      const response = await h.send('/commerce/v1/events', { client: commerce, body: legacyBody({ 'event-type-version': 'v1.0' }) });

      assert.equal(response.status, 400);
      assert.deepEqual(response.json(), {
        status: 400,
        type: 'validation_violation',
        message: 'event-type-version must be alphanumeric, such as v1',
        details: [{ field: 'event-type-version', type: 'invalid_field', message: 'event-type-version must be alphanumeric, such as v1' }],
      });
    });

    it('answers bad_payload_syntax', async () => {
      for (const body of ['', 'not json', '[]']) {
        const response = await h.send('/commerce/v1/events', { client: commerce, body });

        assert.equal(response.status, 400, body);
        const answer = response.json() as { type: string; details: unknown[] };
        assert.equal(answer.type, 'bad_payload_syntax');
        assert.deepEqual(answer.details, []);
      }
    });

    it('answers an oversized body with request_body_too_large', async () => {
      const response = await h.send('/commerce/v1/events', { client: commerce, body: Buffer.alloc(1024 * 1024 + 1, 0x20) });

      assert.equal(response.status, 413);
      assert.deepEqual(response.json(), { status: 413, type: 'request_body_too_large', message: 'request body exceeds the limit of 1048576 bytes', details: [] });
    });

    it('answers authentication failures in the legacy shape', async () => {
      const response = await h.send('/crm/v1/events', { client: commerce, body: legacyBody() });

      assert.equal(response.status, 403);
      assert.equal((response.json() as { type: string }).type, 'forbidden');
    });
  });

  describe('limits', () => {
    it('rejects 1 byte over the default limit', async () => {
      const response = await h.send('/commerce/events', { client: commerce, headers: binaryHeaders({ 'content-type': 'application/octet-stream' }), body: Buffer.alloc(1024 * 1024 + 1) });

      assert.equal(response.status, 413);
      assert.deepEqual(response.json(), { code: 413, error: 'request body exceeds the limit of 1048576 bytes' });
    });

    it('rejects an oversized chunked body', async () => {
      const response = await request(`${h.externalUrl}/commerce/events`, {
        method: 'POST',
        ca: h.pki.ca.certificatePem,
        cert: commerce.certificatePem,
        key: commerce.privateKeyPem,
        headers: { ...binaryHeaders({ 'content-type': 'application/octet-stream' }), 'transfer-encoding': 'chunked' },
        body: Buffer.alloc(1024 * 1024 + 1),
      });

      assert.equal(response.status, 413);
    });

    it('rejects an event over max_payload', async () => {
      const response = await h.send('/commerce/events', { client: commerce, headers: binaryHeaders({ 'content-type': 'application/octet-stream' }), body: Buffer.alloc(1024 * 1024) });

      assert.equal(response.status, 413);
      assert.match((response.json() as { error: string }).error, /over the NATS max_payload of 1048576 bytes/);
    });
  });

  describe('mTLS', () => {
    it('rejects a request without a client certificate', async () => {
      const response = await h.send('/commerce/events', { client: null, headers: binaryHeaders(), body: '{}' });

      assert.equal(response.status, 401);
      assert.deepEqual(response.json(), { code: 401, error: 'a client certificate is required' });
    });

    it('rejects a certificate from another CA', async () => {
      const otherCa = await createCertificateAuthority('Other CA');
      const stranger = await h.pki.issueClient('commerce', { ca: otherCa });

      const response = await h.send('/commerce/events', { client: stranger, headers: binaryHeaders(), body: '{}' });

      assert.equal(response.status, 401);
      assert.deepEqual(response.json(), { code: 401, error: "client certificate is not issued by Ferry's CA" });
    });

    it("rejects another application's path", async () => {
      const headers = binaryHeaders();

      const response = await h.send('/crm/events', { client: commerce, headers, body: '{}' });

      assert.equal(response.status, 403);
      assert.deepEqual(response.json(), { code: 403, error: "client certificate CN 'commerce' does not match application 'crm'" });
      assert.equal(withId(await h.storedMessages(), headers['ce-id']!).length, 0);
    });

    it('rejects an application that does not exist', async () => {
      const ghost = await h.pki.issueClient('ghost');

      const response = await h.send('/ghost/events', { client: ghost, headers: binaryHeaders(), body: '{}' });

      assert.equal(response.status, 403);
      assert.deepEqual(response.json(), { code: 403, error: "application 'ghost' does not exist" });
    });

    it('rejects a revoked certificate within a second', async () => {
      const revoked = await h.pki.issueClient('commerce');
      assert.equal((await h.send('/commerce/events', { client: revoked, headers: binaryHeaders(), body: '{}' })).status, 204);

      await h.revoke(revoked);

      await waitUntil(async () => (await h.send('/commerce/events', { client: revoked, headers: binaryHeaders(), body: '{}' })).status === 403, 1000);
      const response = await h.send('/commerce/v1/events', { client: revoked, body: legacyBody() });
      assert.equal(response.status, 403);
      assert.equal((await h.send('/commerce/events', { client: commerce, headers: binaryHeaders(), body: '{}' })).status, 204);
    });

    it('answers 404 for other paths', async () => {
      const response = await h.send('/commerce/v3/events', { client: commerce, headers: binaryHeaders(), body: '{}' });

      assert.equal(response.status, 404);
      assert.equal((response.json() as { code: number }).code, 404);
    });
  });

  describe('subscribed events', () => {
    it('lists the types subscribed from the application', async () => {
      await h.putSubscription('mailer', { name: 'mailer', sink: 'http://localhost:8085/mailer', source: 'commerce', types: ['order.created.v1'], typeMatching: 'standard', config: {}, delivery: {} });
      await h.putSubscription('crm-sync', { name: 'crm-sync', sink: 'http://localhost:8085/crm', source: 'crm', types: ['lead.created.v1'], typeMatching: 'standard', config: {}, delivery: {} });
      const get = () => request(`${h.externalUrl}/commerce/v1/events/subscribed`, { ca: h.pki.ca.certificatePem, cert: commerce.certificatePem, key: commerce.privateKeyPem });

      await waitUntil(async () => ((await get()).json() as { eventsInfo: unknown[] }).eventsInfo.length > 0);

      const response = await get();
      assert.equal(response.status, 200);
      assert.deepEqual(response.json(), { eventsInfo: [{ name: 'order.created', version: 'v1' }] });
    });

    it("rejects another application's certificate", async () => {
      const response = await request(`${h.externalUrl}/commerce/v1/events/subscribed`, { ca: h.pki.ca.certificatePem, cert: crm.certificatePem, key: crm.privateKeyPem });

      assert.equal(response.status, 403);
    });
  });

  describe('internal /publish', () => {
    it('stores in-platform events under _platform', async () => {
      const headers = binaryHeaders({ 'ce-source': '/functions/order-mailer' });

      const response = await request(`${h.internalUrl}/publish`, { method: 'POST', headers, body: '{}' });

      assert.equal(response.status, 204);
      const [stored] = withId(await h.storedMessages(), headers['ce-id']!);
      assert.equal(stored?.subject, 'ferry.events._platform.order.created.v1');
      assert.equal(stored.messageId, createStoredEventMessageId('_platform', '/functions/order-mailer', headers['ce-id']!));
    });

    it('rejects invalid events', async () => {
      const response = await request(`${h.internalUrl}/publish`, { method: 'POST', headers: binaryHeaders({ 'ce-type': '' }), body: '{}' });

      assert.deepEqual(response.json(), { code: 400, error: 'type: must not be empty' });
    });

    it('serves health and metrics', async () => {
      assert.equal((await request(`${h.internalUrl}/readyz`)).status, 200);
      const metrics = await request(`${h.internalUrl}/metrics`);
      assert.match(metrics.body, /ferry_http_requests_total\{[^}]*route="\/:app\/events"[^}]*status="204"/);
    });
  });

  it('logs a rejected request with its id', async () => {
    const response = await h.send('/commerce/events', { client: commerce, headers: binaryHeaders({ 'ce-id': '' }), body: '{}' });

    const line = h.logs.lines.find((entry) => entry.reqId === response.headers['x-request-id'] && entry.msg === 'request rejected');
    assert.equal(line?.status, 400);
    assert.equal(line.reason, 'id: must not be empty');
  });
});

describe('events ingress with small limits', () => {
  let h: Harness;
  let commerce: TestClientCertificate;
  let secret: string;

  before(async () => {
    secret = randomUUID() + randomUUID();
    h = await startHarness({
      env: {
        FERRY_EVENTS_MAX_BODY_BYTES: '4096',
        FERRY_EVENTS_MAX_BYTES: String(64 * 1024),
        FERRY_REQUIRE_WORKLOAD_AUTH: 'true',
        FERRY_ADMIN_JWT_SECRET: secret,
      },
    });
    commerce = await h.addApplication('commerce');
  });

  after(async () => {
    await h.close();
  });

  it('accepts a body at the configured limit', async () => {
    const response = await h.send('/commerce/events', { client: commerce, headers: binaryHeaders({ 'content-type': 'text/plain' }), body: 'x'.repeat(4096) });

    assert.equal(response.status, 204);
  });

  it('rejects 1 byte over the limit', async () => {
    const response = await h.send('/commerce/events', { client: commerce, headers: binaryHeaders({ 'content-type': 'text/plain' }), body: 'x'.repeat(4097) });

    assert.deepEqual(response.json(), { code: 413, error: 'request body exceeds the limit of 4096 bytes' });
  });

  it('requires a workload token', async () => {
    const token = await issueAdminToken(new TextEncoder().encode(secret), { roles: [] });

    const without = await request(`${h.internalUrl}/publish`, { method: 'POST', headers: binaryHeaders(), body: '{}' });
    const withToken = await request(`${h.internalUrl}/publish`, { method: 'POST', headers: { ...binaryHeaders(), authorization: `Bearer ${token}` }, body: '{}' });

    assert.equal(without.status, 401);
    assert.equal(withToken.status, 204);
  });

  it('answers 507 once the stream is full', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 40 && !statuses.includes(507); i++) {
      const response = await h.send('/commerce/events', { client: commerce, headers: binaryHeaders({ 'content-type': 'text/plain' }), body: 'x'.repeat(4000) });
      statuses.push(response.status);
    }

    assert.equal(statuses.at(-1), 507);
    assert.ok(statuses.slice(0, -1).every((status) => status === 204));
    const response = await h.send('/commerce/events', { client: commerce, headers: binaryHeaders({ 'content-type': 'text/plain' }), body: 'x'.repeat(4000) });
    assert.equal(response.status, 507);
    assert.match((response.json() as { error: string }).error, /^event store is full: maximum bytes exceeded/);
  });
});
