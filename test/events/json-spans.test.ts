import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { arrayElementStarts, rawMemberText, valueStart } from '../../services/events/domain/json-spans.ts';

function dataOf(text: string): string | undefined {
  return rawMemberText(text, valueStart(text), 'data');
}

describe('rawMemberText', () => {
  it('returns values exactly as written', () => {
    assert.equal(dataOf('{"id":"1","data": { "total" : 1.50 } }'), '{ "total" : 1.50 }');
    assert.equal(dataOf('{"data":12345678901234567890}'), '12345678901234567890');
    assert.equal(dataOf('{"data":-0.0e+10 ,"x":1}'), '-0.0e+10');
    assert.equal(dataOf('{"data":[1, [2, {"a": "]"}]]}'), '[1, [2, {"a": "]"}]]');
    assert.equal(dataOf('{"data":null}'), 'null');
    assert.equal(dataOf('{"data":true}'), 'true');
  });

  it('skips strings with quotes and braces', () => {
    const text = '{"a":"}\\"{","b\\"data":{"data":0},"data":"x\\\\"}';

    assert.equal(dataOf(text), '"x\\\\"');
  });

  it('matches escaped member names', () => {
    assert.equal(dataOf('{"d\\u0061ta":"escaped"}'), '"escaped"');
  });

  it('returns the last of repeated members', () => {
    assert.equal(dataOf('{"data":1,"data":2}'), '2');
  });

  it('returns undefined without the member', () => {
    assert.equal(dataOf('{"id":"1","nested":{"data":1}}'), undefined);
    assert.equal(dataOf(' { } '), undefined);
  });

  it('agrees with JSON.parse on every value', () => {
    const values = [{ a: [1, 2, { b: 'c"}' }] }, 'text with \\ and "', 0, -1.25e-7, [], {}, [null, false], 'Grüße 😀'];
    for (const value of values) {
      const text = `{"specversion":"1.0",\n  "data" :\t${JSON.stringify(value, null, 2)} , "z": 1}`;

      assert.deepEqual(JSON.parse(dataOf(text)!), value);
    }
  });
});

describe('arrayElementStarts', () => {
  it('finds every element', () => {
    const text = ' [ {"data":1} , {"id":"]","data":[2]},{} ] ';

    const starts = arrayElementStarts(text, valueStart(text));

    assert.equal(starts.length, 3);
    assert.deepEqual(starts.map((start) => rawMemberText(text, start, 'data')), ['1', '[2]', undefined]);
  });

  it('handles an empty array', () => {
    assert.deepEqual(arrayElementStarts('[ ]', 0), []);
  });
});
