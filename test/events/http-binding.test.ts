import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CloudEvent, HTTP } from 'cloudevents';
import type { StoredCloudEvent } from '../../shared/events/stored-event.ts';
import { ContentMode, detectContentMode, parseHttpEvents } from '../../services/events/domain/http-binding.ts';
import { InvalidEventError } from '../../services/events/domain/invalid-event-error.ts';

const REQUIRED_HEADERS = { 'ce-specversion': '1.0', 'ce-id': 'A-1', 'ce-source': '/commerce', 'ce-type': 'order.created.v1' };
const REQUIRED_MEMBERS = { specversion: '1.0', id: 'A-1', source: '/commerce', type: 'order.created.v1' };

function toRawHeaders(headers: Record<string, string>): string[] {
  return Object.entries(headers).flat();
}

function binary(headers: Record<string, string>, body: string | Buffer = '', contentType?: string): StoredCloudEvent[] {
  return parseHttpEvents({ rawHeaders: toRawHeaders(headers), contentType, body: Buffer.from(body) });
}

function structured(event: unknown, contentType = 'application/cloudevents+json'): StoredCloudEvent[] {
  return parseHttpEvents({ rawHeaders: [], contentType, body: Buffer.from(JSON.stringify(event)) });
}

function batch(events: unknown[]): StoredCloudEvent[] {
  return parseHttpEvents({ rawHeaders: [], contentType: 'application/cloudevents-batch+json', body: Buffer.from(JSON.stringify(events)) });
}

/** Assert that `parse` throws an `InvalidEventError` with exactly `message`. */
function assertInvalid(parse: () => unknown, message: string): void {
  assert.throws(parse, (error: unknown) => {
    assert.ok(error instanceof InvalidEventError, `expected InvalidEventError, got ${String(error)}`);
    assert.equal(error.message, message);
    return true;
  });
}

function only(events: StoredCloudEvent[]): StoredCloudEvent {
  assert.equal(events.length, 1);
  return events[0]!;
}

describe('detectContentMode', () => {
  it('picks the mode from Content-Type', () => {
    assert.equal(detectContentMode('application/cloudevents+json'), ContentMode.Structured);
    assert.equal(detectContentMode('Application/CloudEvents+JSON; charset=UTF-8'), ContentMode.Structured);
    assert.equal(detectContentMode('application/cloudevents-batch+json; charset=utf-8'), ContentMode.Batch);
    assert.equal(detectContentMode('application/json'), ContentMode.Binary);
    assert.equal(detectContentMode('application/cloudevents+avro'), ContentMode.Binary);
    assert.equal(detectContentMode(undefined), ContentMode.Binary);
  });
});

describe('binary mode', () => {
  it('maps ce- headers and Content-Type to attributes', () => {
    const event = only(binary({ ...REQUIRED_HEADERS, 'ce-time': '2024-05-01T10:00:00Z', 'ce-subject': 'o-1', 'CE-MyExt': 'x' }, '{"a":1}', 'application/json'));

    assert.deepEqual(event.attributes, {
      id: 'A-1',
      source: '/commerce',
      type: 'order.created.v1',
      time: '2024-05-01T10:00:00Z',
      subject: 'o-1',
      myext: 'x',
      datacontenttype: 'application/json',
    });
    assert.deepEqual(event.data, { kind: 'json-text', text: '{"a":1}' });
  });

  it('requires ce-specversion', () => {
    const headers: Record<string, string> = { ...REQUIRED_HEADERS };
    delete headers['ce-specversion'];

    assertInvalid(() => binary(headers, '{}', 'application/json'), 'specversion: is required');
  });

  it('rejects a ce-datacontenttype header', () => {
    assertInvalid(
      () => binary({ ...REQUIRED_HEADERS, 'ce-datacontenttype': 'application/json' }, '{}', 'application/json'),
      'datacontenttype: must not be sent as a ce-datacontenttype header in binary mode: use Content-Type',
    );
  });

  it('percent-decodes header values once', () => {
    const event = only(binary({ ...REQUIRED_HEADERS, 'ce-subject': 'Euro%20%E2%82%AC%20%F0%9F%98%80', 'ce-note': '%2541' }));

    assert.equal(event.attributes.subject, 'Euro € 😀');
    assert.equal(event.attributes.note, '%41');
  });

  it('rejects invalid UTF-8 in a header', () => {
    assertInvalid(() => binary({ ...REQUIRED_HEADERS, 'ce-subject': '%C0%A0' }), 'subject: header value is not valid UTF-8 once percent-decoded');
  });

  it('rejects a repeated ce- header', () => {
    const rawHeaders = [...toRawHeaders(REQUIRED_HEADERS), 'ce-Id', 'A-2'];

    assert.throws(() => parseHttpEvents({ rawHeaders, contentType: undefined, body: Buffer.alloc(0) }), /^InvalidEventError: id: must be sent once/);
  });

  it('rejects punctuated extension names', () => {
    for (const name of ['my-ext', 'my_ext', 'my.ext']) {
      assertInvalid(() => binary({ ...REQUIRED_HEADERS, [`ce-${name}`]: 'x' }), `${name}: is not a valid attribute name: use lower-case letters a-z and digits 0-9 only`);
    }
  });

  it('lower-cases header names, which HTTP treats case-insensitively', () => {
    assert.equal(only(binary({ ...REQUIRED_HEADERS, 'Ce-OrderCode': '42' })).attributes.ordercode, '42');
  });

  it('rejects ce-data', () => {
    assertInvalid(() => binary({ ...REQUIRED_HEADERS, 'ce-data': 'x' }), 'data: is reserved for the event data and cannot be an attribute');
  });

  it('keeps XML bodies byte for byte', () => {
    const xml = '<?xml version="1.0"?>\n<order id="42">  <total>1.50</total></order>';

    const event = only(binary(REQUIRED_HEADERS, xml, 'application/xml'));

    assert.deepEqual(event.data, { kind: 'binary', bytes: Buffer.from(xml) });
    assert.equal(event.attributes.datacontenttype, 'application/xml');
  });

  it('keeps text and opaque bodies', () => {
    const bytes = Buffer.from([0xff, 0x00, 0xc0, 0xa0]);

    assert.deepEqual(only(binary(REQUIRED_HEADERS, 'plain text\r\n', 'text/plain')).data, { kind: 'binary', bytes: Buffer.from('plain text\r\n') });
    assert.deepEqual(only(binary(REQUIRED_HEADERS, bytes, 'application/octet-stream')).data, { kind: 'binary', bytes });
    assert.deepEqual(only(binary(REQUIRED_HEADERS, bytes)).data, { kind: 'binary', bytes });
  });

  it('stores no data for an empty body', () => {
    assert.equal(only(binary(REQUIRED_HEADERS, '', 'application/json')).data, undefined);
  });

  it('rejects unparsable JSON data', () => {
    assertInvalid(() => binary(REQUIRED_HEADERS, '{"a":', 'application/json'), 'data: is not valid JSON, which datacontenttype "application/json" requires');
  });

  it('rejects an empty Content-Type', () => {
    assertInvalid(() => binary(REQUIRED_HEADERS, 'x', ''), 'datacontenttype: must not be empty');
  });
});

describe('structured mode', () => {
  it('keeps attributes, extensions and JSON data', () => {
    const event = only(structured({ ...REQUIRED_MEMBERS, comexampleothervalue: 5, flag: false, data: { appinfoA: 'abc' } }));

    assert.deepEqual(event.attributes, { id: 'A-1', source: '/commerce', type: 'order.created.v1', comexampleothervalue: 5, flag: false });
    assert.deepEqual(event.data, { kind: 'json-text', text: JSON.stringify({ appinfoA: 'abc' }) });
  });

  it('accepts Content-Type parameters in any case', () => {
    assert.equal(structured(REQUIRED_MEMBERS, 'Application/CloudEvents+JSON; charset=UTF-8').length, 1);
  });

  it('treats null optional attributes as absent', () => {
    const event = only(structured({ ...REQUIRED_MEMBERS, subject: null, time: null, dataschema: null, ext: null, data_base64: null }));

    assert.deepEqual(event.attributes, { id: 'A-1', source: '/commerce', type: 'order.created.v1' });
  });

  for (const name of ['id', 'source', 'type']) {
    it(`rejects a missing ${name}`, () => {
      const rest: Record<string, string> = { ...REQUIRED_MEMBERS };
      delete rest[name];

      assertInvalid(() => structured(rest), `${name}: is required`);
    });

    it(`rejects an empty ${name}`, () => {
      assertInvalid(() => structured({ ...REQUIRED_MEMBERS, [name]: '' }), `${name}: must not be empty`);
    });

    it(`rejects a non-string ${name}`, () => {
      assertInvalid(() => structured({ ...REQUIRED_MEMBERS, [name]: 42 }), `${name}: must be a string, got number`);
    });

    it(`rejects a null ${name}`, () => {
      assertInvalid(() => structured({ ...REQUIRED_MEMBERS, [name]: null }), `${name}: is required`);
    });
  }

  it('rejects a missing specversion', () => {
    const rest: Record<string, string> = { ...REQUIRED_MEMBERS };
    delete rest.specversion;

    assertInvalid(() => structured(rest), 'specversion: is required');
  });

  it('rejects a non-string specversion', () => {
    assertInvalid(() => structured({ ...REQUIRED_MEMBERS, specversion: 1 }), 'specversion: must be a string, got number');
  });

  it('rejects other spec versions', () => {
    for (const version of ['0.2', '1.1', '2.0', '']) {
      assertInvalid(() => structured({ ...REQUIRED_MEMBERS, specversion: version }), `specversion: must be "1.0" or "0.3", got "${version}"`);
    }
  });

  it('rejects a non-URI source', () => {
    assertInvalid(() => structured({ ...REQUIRED_MEMBERS, source: 'a b' }), 'source: must be a URI reference (RFC 3986), got "a b"');
  });

  it('rejects control characters in strings', () => {
    assertInvalid(() => structured({ ...REQUIRED_MEMBERS, type: 'a\nb' }), 'type: must not contain control characters or unpaired surrogates');
  });

  it('rejects upper-case extension names', () => {
    assertInvalid(() => structured({ ...REQUIRED_MEMBERS, myExt: 'x' }), 'myExt: is not a valid attribute name: use lower-case letters a-z and digits 0-9 only');
  });

  it('rejects punctuated extension names', () => {
    assertInvalid(() => structured({ ...REQUIRED_MEMBERS, 'my-ext': 'x' }), 'my-ext: is not a valid attribute name: use lower-case letters a-z and digits 0-9 only');
  });

  it('rejects wrong-typed extensions', () => {
    assertInvalid(() => structured({ ...REQUIRED_MEMBERS, ext: { a: 1 } }), 'ext: must be a string, a boolean or a 32-bit integer, got object');
    assertInvalid(() => structured({ ...REQUIRED_MEMBERS, ext: 1.5 }), 'ext: must be a string, a boolean or a 32-bit integer, got 1.5');
    assertInvalid(() => structured({ ...REQUIRED_MEMBERS, ext: [1] }), 'ext: must be a string, a boolean or a 32-bit integer, got array');
  });

  it('rejects a time without seconds', () => {
    assertInvalid(() => structured({ ...REQUIRED_MEMBERS, time: '2024-05-01T10:00Z' }), 'time: must be an RFC 3339 timestamp with seconds and a valid offset, got "2024-05-01T10:00Z"');
  });

  it('rejects a time with offset +25:00', () => {
    assertInvalid(
      () => structured({ ...REQUIRED_MEMBERS, time: '2024-05-01T10:00:00+25:00' }),
      'time: must be an RFC 3339 timestamp with seconds and a valid offset, got "2024-05-01T10:00:00+25:00"',
    );
  });

  it('rejects a non-string time', () => {
    assertInvalid(() => structured({ ...REQUIRED_MEMBERS, time: 1714557600 }), 'time: must be a string, got number');
  });

  it('keeps time exactly as sent', () => {
    assert.equal(only(structured({ ...REQUIRED_MEMBERS, time: '2024-05-01T12:00:00.5+02:00' })).attributes.time, '2024-05-01T12:00:00.5+02:00');
  });

  it('requires dataschema as absolute URI', () => {
    assertInvalid(() => structured({ ...REQUIRED_MEMBERS, dataschema: '' }), 'dataschema: must not be empty');
    assertInvalid(() => structured({ ...REQUIRED_MEMBERS, dataschema: '/schema.json' }), 'dataschema: must be an absolute URI (RFC 3986), got "/schema.json"');
    assert.equal(only(structured({ ...REQUIRED_MEMBERS, dataschema: 'https://x.example/s.json' })).attributes.dataschema, 'https://x.example/s.json');
  });

  it('requires subject and datacontenttype to be non-empty', () => {
    assertInvalid(() => structured({ ...REQUIRED_MEMBERS, subject: '' }), 'subject: must not be empty');
    assertInvalid(() => structured({ ...REQUIRED_MEMBERS, datacontenttype: '' }), 'datacontenttype: must not be empty');
    assertInvalid(() => structured({ ...REQUIRED_MEMBERS, datacontenttype: 5 }), 'datacontenttype: must be a string, got number');
  });

  it('rejects data together with data_base64', () => {
    assertInvalid(() => structured({ ...REQUIRED_MEMBERS, data: { a: 1 }, data_base64: 'AAE=' }), 'data_base64: must not be combined with data: send one of them');
  });

  it('decodes data_base64 into bytes', () => {
    const event = only(structured({ ...REQUIRED_MEMBERS, datacontenttype: 'application/octet-stream', data_base64: Buffer.from([1, 2, 255]).toString('base64') }));

    assert.deepEqual(event.data, { kind: 'binary', bytes: Buffer.from([1, 2, 255]) });
  });

  it('rejects invalid data_base64', () => {
    assertInvalid(() => structured({ ...REQUIRED_MEMBERS, data_base64: 'not base64!' }), 'data_base64: is not valid base64 (RFC 4648 §4, with padding)');
    assertInvalid(() => structured({ ...REQUIRED_MEMBERS, data_base64: 12 }), 'data_base64: must be a base64 string, got number');
  });

  it('stores XML string data as bytes', () => {
    const event = only(structured({ ...REQUIRED_MEMBERS, datacontenttype: 'application/xml', data: '<much wow="xml"/>' }));

    assert.deepEqual(event.data, { kind: 'binary', bytes: Buffer.from('<much wow="xml"/>') });
  });

  it('stores text string data as bytes', () => {
    assert.deepEqual(only(structured({ ...REQUIRED_MEMBERS, datacontenttype: 'text/plain', data: 'Grüße' })).data, { kind: 'binary', bytes: Buffer.from('Grüße') });
  });

  it('rejects non-string data for a non-JSON type', () => {
    assertInvalid(
      () => structured({ ...REQUIRED_MEMBERS, datacontenttype: 'application/xml', data: { a: 1 } }),
      'data: must be a string when datacontenttype "application/xml" is not JSON, got object',
    );
  });

  it('keeps a JSON string as JSON data', () => {
    assert.deepEqual(only(structured({ ...REQUIRED_MEMBERS, data: "I'm just a string" })).data, { kind: 'json-text', text: JSON.stringify("I'm just a string") });
  });

  it('rejects a non-object body', () => {
    assertInvalid(() => structured([REQUIRED_MEMBERS]), 'body: must be a JSON object, got array');
    assert.throws(() => parseHttpEvents({ rawHeaders: [], contentType: 'application/cloudevents+json', body: Buffer.from('{') }), /^InvalidEventError: body: is not valid JSON/);
    assert.throws(() => parseHttpEvents({ rawHeaders: [], contentType: 'application/cloudevents+json', body: Buffer.alloc(0) }), /^InvalidEventError: body: is not valid JSON/);
  });

  it('rejects a body that is not UTF-8', () => {
    assertInvalid(() => parseHttpEvents({ rawHeaders: [], contentType: 'application/cloudevents+json', body: Buffer.from([0x7b, 0xc0, 0xa0, 0x7d]) }), 'body: is not valid UTF-8');
  });
});

describe('version 0.3', () => {
  it('is stored as 1.0', () => {
    const event = only(structured({ ...REQUIRED_MEMBERS, specversion: '0.3', schemaurl: 'https://x.example/s.json', data: { a: 1 } }));

    assert.deepEqual(event.attributes, { id: 'A-1', source: '/commerce', type: 'order.created.v1', dataschema: 'https://x.example/s.json' });
    assert.deepEqual(event.data, { kind: 'json-text', text: JSON.stringify({ a: 1 }) });
  });

  it('turns base64 data into bytes', () => {
    const event = only(structured({ ...REQUIRED_MEMBERS, specversion: '0.3', datacontentencoding: 'base64', datacontenttype: 'image/png', data: 'AAEC' }));

    assert.deepEqual(event.data, { kind: 'binary', bytes: Buffer.from([0, 1, 2]) });
    assert.equal(event.attributes.datacontentencoding, undefined);
    assert.equal(event.attributes.datacontenttype, 'image/png');
  });

  it('rejects an unknown datacontentencoding', () => {
    assertInvalid(() => structured({ ...REQUIRED_MEMBERS, specversion: '0.3', datacontentencoding: 'gzip', data: 'x' }), 'datacontentencoding: must be "base64", got "gzip"');
  });

  it('converts binary mode headers', () => {
    const event = only(binary({ ...REQUIRED_HEADERS, 'ce-specversion': '0.3', 'ce-schemaurl': 'https://x.example/s.json' }, '<a/>', 'application/xml'));

    assert.equal(event.attributes.dataschema, 'https://x.example/s.json');
    assert.equal(event.attributes.schemaurl, undefined);
  });

  it('treats data_base64 as an invalid name', () => {
    assertInvalid(() => structured({ ...REQUIRED_MEMBERS, specversion: '0.3', data_base64: 'AA==' }), 'data_base64: is not a valid attribute name: use lower-case letters a-z and digits 0-9 only');
  });
});

describe('batch mode', () => {
  it('parses every event', () => {
    const events = batch([
      { ...REQUIRED_MEMBERS, id: '1', data: { a: 1 } },
      { ...REQUIRED_MEMBERS, id: '2', datacontenttype: 'application/xml', data: '<a/>' },
    ]);

    assert.deepEqual(events.map((event) => event.attributes.id), ['1', '2']);
  });

  it('accepts an empty batch', () => {
    assert.deepEqual(batch([]), []);
  });

  it('names the first invalid index', () => {
    assertInvalid(() => batch([REQUIRED_MEMBERS, REQUIRED_MEMBERS, { ...REQUIRED_MEMBERS, id: '' }, { ...REQUIRED_MEMBERS, time: 'x' }]), 'batch[2].id: must not be empty');
  });

  it('rejects mixed spec versions', () => {
    assertInvalid(() => batch([REQUIRED_MEMBERS, { ...REQUIRED_MEMBERS, specversion: '0.3' }]), 'batch[1].specversion: must be "1.0" like the first event of the batch, got "0.3"');
  });

  it('rejects elements that are not objects', () => {
    assertInvalid(() => batch([REQUIRED_MEMBERS, 'x']), 'batch[1].event: must be a JSON object, got string');
  });

  it('rejects a non-array body', () => {
    assertInvalid(() => batch(REQUIRED_MEMBERS as unknown as unknown[]), 'body: must be a JSON array of events, got object');
  });
});

describe('events made by the cloudevents SDK', () => {
  const sdkEvent = new CloudEvent({
    id: 'sdk-1',
    source: '/sdk',
    type: 'order.created.v1',
    time: '2024-05-01T10:00:00.000Z',
    subject: 'Euro € 😀',
    ordercode: '42',
    datacontenttype: 'application/json',
    data: { total: 12 },
  });

  it('parses the SDK binary mode', () => {
    const message = HTTP.binary(sdkEvent);
    const headers = Object.fromEntries(Object.entries(message.headers).map(([name, value]) => [name, encodeURIComponent(String(value))]));

    const event = only(binary(headers, String(message.body), String(message.headers['content-type'])));

    assert.equal(event.attributes.id, 'sdk-1');
    assert.equal(event.attributes.subject, 'Euro € 😀');
    assert.equal(event.attributes.ordercode, '42');
    assert.deepEqual(JSON.parse((event.data as { text: string }).text), { total: 12 });
  });

  it('parses the SDK structured mode', () => {
    const message = HTTP.structured(sdkEvent);

    const event = only(parseHttpEvents({ rawHeaders: [], contentType: String(message.headers['content-type']), body: Buffer.from(String(message.body)) }));

    assert.equal(event.attributes.time, '2024-05-01T10:00:00.000Z');
    assert.deepEqual(event.data, { kind: 'json-text', text: JSON.stringify({ total: 12 }) });
  });
});
