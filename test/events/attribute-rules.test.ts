import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  isAbsoluteUri,
  isAttributeName,
  isBase64,
  isCloudEventsInteger,
  isCloudEventsString,
  isJsonMediaType,
  isRfc3339Timestamp,
  isUriReference,
} from '../../services/events/domain/attribute-rules.ts';

describe('isRfc3339Timestamp', () => {
  it('accepts full timestamps', () => {
    for (const value of ['2024-05-01T10:00:00Z', '2024-05-01T10:00:00.123456789+02:00', '2024-05-01t10:00:00z', '2024-02-29T23:59:60-23:59']) {
      assert.equal(isRfc3339Timestamp(value), true, value);
    }
  });

  it('rejects a time without seconds', () => {
    assert.equal(isRfc3339Timestamp('2024-05-01T10:00Z'), false);
  });

  it('rejects an offset of +25:00', () => {
    assert.equal(isRfc3339Timestamp('2024-05-01T10:00:00+25:00'), false);
  });

  it('rejects malformed and out-of-range values', () => {
    for (const value of ['2024-05-01', '2024-05-01T10:00:00', '2024-13-01T10:00:00Z', '2023-02-29T10:00:00Z', '2024-04-31T10:00:00Z', '2024-05-01T24:00:00Z', '2024-05-01T10:60:00Z', '2024-05-01T10:00:00+01:60', '2024-05-01 10:00:00Z', ' 2024-05-01T10:00:00Z']) {
      assert.equal(isRfc3339Timestamp(value), false, value);
    }
  });
});

describe('isUriReference', () => {
  it('accepts absolute and relative references', () => {
    for (const value of ['/mycontext', 'commerce', 'https://shop.example/orders?id=1#top', 'urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66', 'a/b%20c', '//host/path', 'mailto:a@b.example']) {
      assert.equal(isUriReference(value), true, value);
    }
  });

  it('rejects spaces, bad escapes and bad schemes', () => {
    for (const value of ['a b', '/x%2', '/x%zz', '1abc:def', '<x>', 'a#b#c', 'ünicode']) {
      assert.equal(isUriReference(value), false, value);
    }
  });
});

describe('isAbsoluteUri', () => {
  it('requires a scheme', () => {
    assert.equal(isAbsoluteUri('https://schemas.example/order.json'), true);
    assert.equal(isAbsoluteUri('/schemas/order.json'), false);
  });
});

describe('isAttributeName', () => {
  it('accepts lower-case letters and digits', () => {
    assert.equal(isAttributeName('comexampleextension1'), true);
  });

  it('rejects upper-case and punctuation', () => {
    for (const name of ['myExt', 'my-ext', 'my_ext', 'my.ext', '', 'ä']) {
      assert.equal(isAttributeName(name), false, name);
    }
  });
});

describe('isCloudEventsString', () => {
  it('rejects control characters and lone surrogates', () => {
    assert.equal(isCloudEventsString('Euro € 😀'), true);
    for (const value of ['a\u0000b', 'tab\t', 'del\u007f', 'c1\u0085', 'lone\ud800', 'lone\udc00x']) {
      assert.equal(isCloudEventsString(value), false, JSON.stringify(value));
    }
  });
});

describe('isCloudEventsInteger', () => {
  it('accepts 32-bit whole numbers only', () => {
    assert.equal(isCloudEventsInteger(-2_147_483_648), true);
    assert.equal(isCloudEventsInteger(2_147_483_647), true);
    assert.equal(isCloudEventsInteger(2_147_483_648), false);
    assert.equal(isCloudEventsInteger(1.5), false);
  });
});

describe('isJsonMediaType', () => {
  it('matches */json and */*+json with parameters', () => {
    for (const type of ['application/json', 'Application/JSON; charset=utf-8', 'text/json', 'application/vnd.order+json']) {
      assert.equal(isJsonMediaType(type), true, type);
    }
    for (const type of ['application/xml', 'text/plain', 'application/jsonl', 'json', undefined]) {
      assert.equal(isJsonMediaType(type), false, String(type));
    }
  });
});

describe('isBase64', () => {
  it('accepts padded base64 only', () => {
    assert.equal(isBase64(''), true);
    assert.equal(isBase64('PGEvPg=='), true);
    assert.equal(isBase64('PGEvPg'), false);
    assert.equal(isBase64('PG E='), false);
  });
});
