import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../shared/errors/errors.ts';
import { percentEncodeHeaderValue, toBinaryHeaders } from '../../services/dispatcher/binary-headers.ts';
import { parseDispatcherConfig } from '../../services/dispatcher/config.ts';
import { DeliveryVerdict, classifyStatus, computeBackoffMs, parseRetryAfterMs } from '../../services/dispatcher/retry-policy.ts';
import { StoredEventError, decodeStoredEvent } from '../../services/dispatcher/stored-event.ts';
import { subscriptionOfConsumer, toConsumerName, toFilterSubject } from '../../services/dispatcher/subscription.ts';

void describe('classifyStatus', () => {
  void it('maps statuses to verdicts', () => {
    const table: [number | undefined, DeliveryVerdict][] = [
      [200, DeliveryVerdict.Delivered],
      [202, DeliveryVerdict.Delivered],
      [204, DeliveryVerdict.Delivered],
      [299, DeliveryVerdict.Delivered],
      [undefined, DeliveryVerdict.Retry],
      [404, DeliveryVerdict.Retry],
      [408, DeliveryVerdict.Retry],
      [409, DeliveryVerdict.Retry],
      [429, DeliveryVerdict.Retry],
      [500, DeliveryVerdict.Retry],
      [503, DeliveryVerdict.Retry],
      [599, DeliveryVerdict.Retry],
      [301, DeliveryVerdict.Reject],
      [400, DeliveryVerdict.Reject],
      [401, DeliveryVerdict.Reject],
      [403, DeliveryVerdict.Reject],
      [410, DeliveryVerdict.Reject],
      [413, DeliveryVerdict.Reject],
      [422, DeliveryVerdict.Reject],
    ];
    for (const [status, verdict] of table) {
      assert.equal(classifyStatus(status), verdict, `status ${status}`);
    }
  });
});

void describe('computeBackoffMs', () => {
  const exponential = { backoff: 'exponential', backoffDelayMs: 100, maxBackoffMs: 1000 } as const;
  const linear = { backoff: 'linear', backoffDelayMs: 100, maxBackoffMs: 250 } as const;

  void it('doubles and caps exponential', () => {
    assert.deepEqual([1, 2, 3, 4, 5, 40].map((attempt) => computeBackoffMs(exponential, attempt)), [100, 200, 400, 800, 1000, 1000]);
  });

  void it('adds and caps linear', () => {
    assert.deepEqual([1, 2, 3, 4].map((attempt) => computeBackoffMs(linear, attempt)), [100, 200, 250, 250]);
  });

  void it('prefers a longer Retry-After', () => {
    assert.equal(computeBackoffMs(exponential, 1, 700), 700);
    assert.equal(computeBackoffMs(exponential, 3, 10), 400);
    assert.equal(computeBackoffMs(exponential, 1, 60_000), 1000);
  });
});

void describe('parseRetryAfterMs', () => {
  const now = new Date('2026-01-01T00:00:00Z');

  void it('reads seconds and dates', () => {
    assert.equal(parseRetryAfterMs('3', now), 3000);
    assert.equal(parseRetryAfterMs(' 0 ', now), 0);
    assert.equal(parseRetryAfterMs('Thu, 01 Jan 2026 00:00:05 GMT', now), 5000);
    assert.equal(parseRetryAfterMs('Wed, 31 Dec 2025 23:00:00 GMT', now), 0);
  });

  void it('ignores invalid values', () => {
    for (const value of [undefined, '', '-1', '1.5', 'soon']) {
      assert.equal(parseRetryAfterMs(value, now), undefined, `value ${String(value)}`);
    }
  });
});

void describe('binary headers', () => {
  void it('percent-encodes header values', () => {
    assert.equal(percentEncodeHeaderValue('order.created.v1'), 'order.created.v1');
    assert.equal(percentEncodeHeaderValue('a b"c%d'), 'a%20b%22c%25d');
    assert.equal(percentEncodeHeaderValue('ü€'), '%C3%BC%E2%82%AC');
    assert.equal(percentEncodeHeaderValue('line\nbreak'), 'line%0Abreak');
  });

  void it('replaces an invalid traceparent', () => {
    const event = decodeStoredEvent(Buffer.from(JSON.stringify({ specversion: '1.0', id: '1', type: 't', source: 's', traceparent: 'bad\r\nvalue', datacontenttype: 'text/plain\u0000' })));
    const headers = toBinaryHeaders(event);
    assert.match(headers.traceparent!, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    assert.equal(headers['content-type'], 'application/octet-stream');
    assert.equal(headers['ce-traceparent'], undefined);
  });
});

void describe('decodeStoredEvent', () => {
  void it('decodes data forms', () => {
    const text = decodeStoredEvent(Buffer.from(JSON.stringify({ specversion: '1.0', id: '1', type: 't', source: 's', datacontenttype: 'text/plain', data: 'hello' })));
    assert.equal(text.body?.toString('utf8'), 'hello');
    const json = decodeStoredEvent(Buffer.from(JSON.stringify({ specversion: '1.0', id: '1', type: 't', source: 's', data: 'hello', count: 3, flag: true })));
    assert.equal(json.body?.toString('utf8'), '"hello"');
    assert.equal(json.contentType, 'application/json');
    assert.equal(json.attributes.count, '3');
    assert.equal(json.attributes.flag, 'true');
    const empty = decodeStoredEvent(Buffer.from(JSON.stringify({ specversion: '1.0', id: '1', type: 't', source: 's' })));
    assert.equal(empty.body, undefined);
    assert.equal(empty.contentType, undefined);
  });

  void it('rejects invalid events', () => {
    const cases: [string, RegExp][] = [
      ['not json', /not valid JSON/],
      ['[1]', /must be a JSON object/],
      [JSON.stringify({ specversion: '0.3', id: '1', type: 't', source: 's' }), /specversion "0.3"/],
      [JSON.stringify({ specversion: '1.0', type: 't', source: 's' }), /no 'id'/],
      [JSON.stringify({ specversion: '1.0', id: '1', type: 't', source: 's', nested: { a: 1 } }), /attribute 'nested'/],
    ];
    for (const [body, message] of cases) {
      assert.throws(() => decodeStoredEvent(Buffer.from(body)), (error: unknown) => error instanceof StoredEventError && message.test(error.message));
    }
  });
});

void describe('consumer names', () => {
  void it('round-trips the subscription', () => {
    const subject = toFilterSubject({ source: 'commerce', typeMatching: 'standard' }, 'order.created.v1');
    assert.equal(subject, 'ferry.events.commerce.order.created.v1');
    assert.equal(toFilterSubject({ typeMatching: 'standard' }, 'a.b'), 'ferry.events._platform.a.b');
    assert.equal(toFilterSubject({ source: 'commerce', typeMatching: 'exact' }, 'a b'), 'ferry.events.*.a~20b');
    const name = toConsumerName('order-mailer', subject);
    assert.match(name, /^ferry_order-mailer_[0-9a-f]{16}$/);
    assert.equal(subscriptionOfConsumer(name), 'order-mailer');
    assert.equal(subscriptionOfConsumer('KV_something'), undefined);
    assert.notEqual(toConsumerName('a', 'ferry.events.x.a'), toConsumerName('a', 'ferry.events.x.b'));
  });
});

void describe('parseDispatcherConfig', () => {
  void it('allows loopback and the functions host', () => {
    const config = parseDispatcherConfig({ FERRY_FUNCTIONS_URL: 'http://functions.internal:8085' });
    assert.equal(config.sinkEgress.allowLoopback, true);
    assert.equal(config.sinkEgress.allowPrivate, false);
    assert.ok(config.sinkEgress.allowedHosts.includes('functions.internal'));
    assert.equal(parseDispatcherConfig({ FERRY_DISPATCHER_SINK_ALLOW_LOOPBACK: 'false' }).sinkEgress.allowLoopback, false);
  });

  void it('names an invalid variable', () => {
    assert.throws(() => parseDispatcherConfig({ FERRY_DISPATCHER_ACK_WAIT_MARGIN_MS: '10' }), (error: unknown) => error instanceof ConfigError && /FERRY_DISPATCHER_ACK_WAIT_MARGIN_MS/.test(error.message));
    assert.throws(() => parseDispatcherConfig({ FERRY_DISPATCHER_SINK_ALLOW_LOOPBACK: 'maybe' }), /FERRY_DISPATCHER_SINK_ALLOW_LOOPBACK must be true or false/);
  });
});
