import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createStoredEventMessageId, decodeStoredEvent } from '../../shared/events/stored-event.ts';
import { MAX_SUBJECT_LENGTH, createEventMessage } from '../../services/events/domain/event-message.ts';
import { withTraceContext } from '../../services/events/domain/trace-context.ts';

const attributes = { id: 'A-1', source: '/commerce', type: 'order.created.v1' };
const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

describe('createEventMessage', () => {
  it('builds subject, message id and body', () => {
    const message = createEventMessage('commerce', { attributes, data: { kind: 'json', value: { a: 1 } } });

    assert.equal(message.subject, 'ferry.events.commerce.order.created.v1');
    assert.equal(message.messageId, createStoredEventMessageId('commerce', '/commerce', 'A-1'));
    assert.equal(message.eventId, 'A-1');
    assert.deepEqual(decodeStoredEvent(message.payload).attributes, { specversion: '1.0', ...attributes });
  });

  it('puts in-platform events under _platform', () => {
    const message = createEventMessage(undefined, { attributes });

    assert.equal(message.subject, 'ferry.events._platform.order.created.v1');
    assert.equal(message.messageId, createStoredEventMessageId('_platform', '/commerce', 'A-1'));
  });

  it('separates special-character types', () => {
    const special = createEventMessage('commerce', { attributes: { ...attributes, type: 'system>prod' } });
    const plain = createEventMessage('commerce', { attributes: { ...attributes, type: 'systemprod' } });

    assert.notEqual(special.subject, plain.subject);
    assert.equal(special.subject, 'ferry.events.commerce.system~3Eprod');
  });

  it('rejects an overlong type', () => {
    assert.throws(() => createEventMessage('commerce', { attributes: { ...attributes, type: '*'.repeat(MAX_SUBJECT_LENGTH) } }), /^InvalidEventError: type: is too long/);
  });
});

describe('withTraceContext', () => {
  it('adds the traceparent header as an extension', () => {
    const event = withTraceContext({ attributes }, { traceparent: TRACEPARENT, tracestate: 'congo=t61rcWkgMzE' });

    assert.equal(event.attributes.traceparent, TRACEPARENT);
    assert.equal(event.attributes.tracestate, 'congo=t61rcWkgMzE');
  });

  it('keeps the event’s own traceparent', () => {
    const own = '00-11111111111111111111111111111111-2222222222222222-01';

    assert.equal(withTraceContext({ attributes: { ...attributes, traceparent: own } }, { traceparent: TRACEPARENT, tracestate: undefined }).attributes.traceparent, own);
  });

  it('ignores a malformed traceparent', () => {
    for (const traceparent of ['garbage', '00-00000000000000000000000000000000-b7ad6b7169203331-01', 'ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01']) {
      assert.equal(withTraceContext({ attributes }, { traceparent, tracestate: undefined }).attributes.traceparent, undefined, traceparent);
    }
  });
});
