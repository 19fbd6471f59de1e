import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { listSubscribedEvents, splitEventType, toSubscriptionSummary } from '../../services/events/domain/events-info.ts';

describe('listSubscribedEvents', () => {
  it('lists distinct types of the application, sorted', () => {
    const subscriptions = [
      { name: 'mailer', source: 'commerce', types: ['order.created.v1', 'order.created.v2'] },
      { name: 'audit', source: 'commerce', types: ['customer.created.v1', 'order.created.v1'] },
      { name: 'crm', source: 'crm', types: ['lead.created.v1'] },
      { name: 'internal', types: ['order.created.v3'] },
    ];

    assert.deepEqual(listSubscribedEvents(subscriptions, 'commerce'), [
      { name: 'customer.created', version: 'v1' },
      { name: 'order.created', version: 'v1' },
      { name: 'order.created', version: 'v2' },
    ]);
  });

  it('returns an empty list without subscriptions', () => {
    assert.deepEqual(listSubscribedEvents([], 'commerce'), []);
  });
});

describe('splitEventType', () => {
  it('splits at the last dot', () => {
    assert.deepEqual(splitEventType('sap.commerce.order.created.v1'), { name: 'sap.commerce.order.created', version: 'v1' });
    assert.deepEqual(splitEventType('created'), { name: 'created', version: '' });
  });
});

describe('toSubscriptionSummary', () => {
  it('reads a dispatcher subscription record', () => {
    const record = { name: 'mailer', sink: 'http://localhost:8085/mailer', source: 'commerce', types: ['order.created.v1'], typeMatching: 'standard', config: {}, delivery: {} };

    assert.deepEqual(toSubscriptionSummary(record), { name: 'mailer', source: 'commerce', types: ['order.created.v1'] });
  });

  it('skips records of another shape', () => {
    for (const record of [null, 'x', { name: 'a' }, { name: 'a', types: [1] }, { types: [] }]) {
      assert.equal(toSubscriptionSummary(record), undefined);
    }
  });
});
