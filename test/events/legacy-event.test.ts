import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LegacyPayloadSyntaxError, LegacyValidationError, parseLegacyEvent } from '../../services/events/domain/legacy-event.ts';

const VALID = {
  'event-type': 'order.created',
  'event-type-version': 'v1',
  'event-id': '8954ad1c-78ed-4c58-a639-68bd44031de0',
  'event-time': '2024-05-01T10:00:00Z',
  data: { orderCode: '42' },
};

function parse(body: unknown): ReturnType<typeof parseLegacyEvent> {
  return parseLegacyEvent(Buffer.from(JSON.stringify(body)), 'commerce');
}

function assertViolation(body: unknown, field: string, problem: 'missing_field' | 'invalid_field'): void {
  assert.throws(
    () => parse(body),
    (error: unknown) => {
      assert.ok(error instanceof LegacyValidationError, String(error));
      assert.equal(error.field, field);
      assert.equal(error.problem, problem);
      return true;
    },
  );
}

describe('parseLegacyEvent', () => {
  it('converts a legacy event into a CloudEvent', () => {
    const { eventId, event } = parse(VALID);

    assert.equal(eventId, VALID['event-id']);
    assert.deepEqual(event.attributes, {
      id: VALID['event-id'],
      source: 'commerce',
      type: 'order.created.v1',
      time: '2024-05-01T10:00:00Z',
      datacontenttype: 'application/json',
      eventtypeversion: 'v1',
    });
    assert.deepEqual(event.data, { kind: 'json-text', text: JSON.stringify({ orderCode: '42' }) });
  });

  it('generates an id when none is sent', () => {
    const body: Record<string, unknown> = { ...VALID };
    delete body['event-id'];

    const first = parse(body);
    const second = parse(body);

    assert.match(first.eventId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.notEqual(first.eventId, second.eventId);
    assert.equal(first.event.attributes.id, first.eventId);
  });

  it('treats a null event-id as absent', () => {
    assert.match(parse({ ...VALID, 'event-id': null }).eventId, /^[0-9a-f-]{36}$/);
  });

  it('accepts string, number and array data', () => {
    assert.deepEqual(parse({ ...VALID, data: 'text' }).event.data, { kind: 'json-text', text: JSON.stringify('text') });
    assert.deepEqual(parse({ ...VALID, data: 0 }).event.data, { kind: 'json-text', text: JSON.stringify(0) });
    assert.deepEqual(parse({ ...VALID, data: [] }).event.data, { kind: 'json-text', text: JSON.stringify([]) });
  });

  for (const field of ['event-type', 'event-type-version', 'event-time', 'data']) {
    it(`requires ${field}`, () => {
      const body: Record<string, unknown> = { ...VALID };
      delete body[field];

      assertViolation(body, field, 'missing_field');
      assertViolation({ ...VALID, [field]: null }, field, 'missing_field');
      assertViolation({ ...VALID, [field]: '' }, field, 'missing_field');
    });
  }

  it('rejects a non-alphanumeric event-type-version', () => {
    for (const version of ['v1.0', 'v-1', 'v 1']) {
      assertViolation({ ...VALID, 'event-type-version': version }, 'event-type-version', 'invalid_field');
    }
  });

  it('rejects a non-RFC 3339 event-time', () => {
    for (const time of ['2024-05-01', '2024-05-01T10:00Z', '2024-05-01T10:00:00+25:00', 'yesterday']) {
      assertViolation({ ...VALID, 'event-time': time }, 'event-time', 'invalid_field');
    }
  });

  it('rejects a non-UUID event-id', () => {
    for (const id of ['42', 'not-a-uuid', 42]) {
      assertViolation({ ...VALID, 'event-id': id }, 'event-id', 'invalid_field');
    }
  });

  it('rejects wrong-typed fields', () => {
    assertViolation({ ...VALID, 'event-type': 5 }, 'event-type', 'invalid_field');
    assertViolation({ ...VALID, 'event-type-version': 1 }, 'event-type-version', 'invalid_field');
    assertViolation({ ...VALID, 'event-time': 1714557600 }, 'event-time', 'invalid_field');
  });

  it('checks fields in Kyma order', () => {
    assertViolation({}, 'event-type', 'missing_field');
    assertViolation({ 'event-type': 'a' }, 'event-type-version', 'missing_field');
    assertViolation({ 'event-type': 'a', 'event-type-version': 'v1' }, 'event-time', 'missing_field');
  });

  it('rejects an empty body', () => {
    assert.throws(() => parseLegacyEvent(Buffer.alloc(0), 'commerce'), LegacyPayloadSyntaxError);
  });

  it('rejects a non-object body', () => {
    for (const body of ['{', 'null', '[1]', '"text"', '\u00ff']) {
      assert.throws(() => parseLegacyEvent(Buffer.from(body, 'latin1'), 'commerce'), LegacyPayloadSyntaxError, body);
    }
  });
});
