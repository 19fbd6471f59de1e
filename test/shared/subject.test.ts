import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeEventType, encodeEventType, eventSubject, parseEventSubject } from '../../shared/events/subject.ts';

describe('event subjects', () => {
  it('keeps plain types readable', () => {
    assert.equal(eventSubject('commerce', 'order.created.v1'), 'ferry.events.commerce.order.created.v1');
    assert.equal(eventSubject(undefined, 'order.enriched.v1'), 'ferry.events._platform.order.enriched.v1');
  });

  it('never maps two types to one subject', () => {
    const types = ['system>prod', 'systemprod', 'system prod', 'system*prod', 'system~3Eprod', 'a..b', 'a.b', 'a.', '.a', 'Ünïcode €', 'x%20y', 'x y'];
    const subjects = types.map((type) => eventSubject('commerce', type));
    assert.equal(new Set(subjects).size, types.length);
    for (const subject of subjects) {
      assert.match(subject, /^[A-Za-z0-9_~.-]+$/, `${subject} uses only safe subject characters`);
      assert.doesNotMatch(subject, /\.\./);
    }
  });

  it('decodes back to the exact type', () => {
    for (const type of ['sap.s4.beh.businesspartner.v1.BusinessPartner.Created.v1', 'system>prod', 'a..b', 'Ünïcode € 😀', '~', '']) {
      assert.equal(decodeEventType(encodeEventType(type)), type);
      assert.deepEqual(parseEventSubject(eventSubject('crm', type)), { application: 'crm', type });
    }
    assert.deepEqual(parseEventSubject(eventSubject(undefined, 'x.y')), { application: undefined, type: 'x.y' });
    assert.equal(parseEventSubject('other.subject'), undefined);
  });
});
