import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  STORED_EVENT_CONTENT_TYPE,
  StoredEventFormatError,
  createStoredEventMessageId,
  decodeStoredEvent,
  encodeStoredEvent,
  type StoredCloudEvent,
} from '../../shared/events/stored-event.ts';

const attributes = { specversion: '1.0', id: 'A-1', source: '/commerce', type: 'order.created.v1', time: '2024-05-01T10:00:00Z', count: 5, flag: true };

describe('stored event', () => {
  it('round-trips JSON data', () => {
    const event: StoredCloudEvent = { attributes, data: { kind: 'json', value: { order: 42, items: ['a', null] } } };

    const decoded = decodeStoredEvent(encodeStoredEvent(event));

    assert.deepEqual(decoded, event);
  });

  it('round-trips binary data byte for byte', () => {
    const bytes = Buffer.from([0, 1, 2, 0xc0, 0xa0, 0xff, 0xfe]);
    const event: StoredCloudEvent = { attributes: { ...attributes, datacontenttype: 'application/octet-stream' }, data: { kind: 'binary', bytes } };

    const decoded = decodeStoredEvent(encodeStoredEvent(event));

    assert.equal(decoded.data?.kind, 'binary');
    assert.deepEqual(Buffer.from(decoded.data.kind === 'binary' ? decoded.data.bytes : []), bytes);
    assert.deepEqual(decoded.attributes, event.attributes);
  });

  it('round-trips an event without data', () => {
    const decoded = decodeStoredEvent(encodeStoredEvent({ attributes }));

    assert.deepEqual(decoded, { attributes });
  });

  it('keeps explicit null data', () => {
    const decoded = decodeStoredEvent(encodeStoredEvent({ attributes, data: { kind: 'json', value: null } }));

    assert.deepEqual(decoded.data, { kind: 'json', value: null });
  });

  it('stores JSON text byte for byte', () => {
    const text = '{ "total" : 1.50, "big": 12345678901234567890 }';

    const body = encodeStoredEvent({ attributes, data: { kind: 'json-text', text } }).toString('utf8');

    assert.ok(body.endsWith(`,"data":${text}}`));
    assert.deepEqual(decodeStoredEvent(Buffer.from(body)).data, { kind: 'json', value: JSON.parse(text) as unknown });
  });

  it('writes the structured JSON format', () => {
    const body = JSON.parse(encodeStoredEvent({ attributes, data: { kind: 'binary', bytes: Buffer.from('<a/>') } }).toString('utf8')) as Record<string, unknown>;

    assert.equal(body.specversion, '1.0');
    assert.equal(body.id, 'A-1');
    assert.equal(body.count, 5);
    assert.equal(body.data_base64, Buffer.from('<a/>').toString('base64'));
    assert.equal('data' in body, false);
    assert.equal(STORED_EVENT_CONTENT_TYPE, 'application/cloudevents+json');
  });

  it('adds specversion when it is missing', () => {
    const body = JSON.parse(encodeStoredEvent({ attributes: { id: '1', source: 's', type: 't' } }).toString('utf8')) as Record<string, unknown>;

    assert.equal(body.specversion, '1.0');
  });

  it('rejects reserved attribute names', () => {
    assert.throws(() => encodeStoredEvent({ attributes: { ...attributes, data: 'x' } }), StoredEventFormatError);
    assert.throws(() => encodeStoredEvent({ attributes: { ...attributes, data_base64: 'x' } }), StoredEventFormatError);
  });

  it('rejects another specversion', () => {
    assert.throws(() => encodeStoredEvent({ attributes: { ...attributes, specversion: '0.3' } }), /specversion must be '1.0'/);
  });

  it('rejects what is not a stored event', () => {
    for (const body of ['not json', '[]', '{"specversion":"0.3"}', '{"specversion":"1.0","ext":{}}']) {
      assert.throws(() => decodeStoredEvent(Buffer.from(body)), StoredEventFormatError, body);
    }
  });
});

describe('stored event message id', () => {
  it('is a SHA-256 hex digest', () => {
    const id = createStoredEventMessageId('commerce', '/orders', '42');

    assert.match(id, /^[0-9a-f]{64}$/);
    assert.equal(id, createStoredEventMessageId('commerce', '/orders', '42'));
  });

  it('differs when any part differs', () => {
    const ids = new Set([
      createStoredEventMessageId('commerce', '/orders', '42'),
      createStoredEventMessageId('crm', '/orders', '42'),
      createStoredEventMessageId('commerce', '/orders2', '42'),
      createStoredEventMessageId('commerce', '/orders', '43'),
      createStoredEventMessageId('commerce', '/orders4', '2'),
    ]);

    assert.equal(ids.size, 5);
  });
});
