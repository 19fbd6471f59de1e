import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HeaderValueError, decodeHeaderValue } from '../../services/events/domain/header-value.ts';

describe('decodeHeaderValue', () => {
  it('decodes the binding example', () => {
    assert.equal(decodeHeaderValue('Euro%20%E2%82%AC%20%F0%9F%98%80'), 'Euro € 😀');
  });

  it('accepts lower-case hex', () => {
    assert.equal(decodeHeaderValue('Euro%20%e2%82%ac'), 'Euro €');
  });

  it('decodes exactly once', () => {
    assert.equal(decodeHeaderValue('%2541'), '%41');
  });

  it('accepts needlessly encoded characters', () => {
    assert.equal(decodeHeaderValue('%61%62c'), 'abc');
  });

  it('keeps plain values', () => {
    assert.equal(decodeHeaderValue('/mycontext/subcontext'), '/mycontext/subcontext');
    assert.equal(decodeHeaderValue('a b'), 'a b');
  });

  it('rejects the overlong %C0%A0', () => {
    assert.throws(() => decodeHeaderValue('%C0%A0'), HeaderValueError);
  });

  it('rejects other invalid UTF-8', () => {
    for (const value of ['%FF', '%E2%82', '%ED%A0%80', '%F8%88%80%80%80']) {
      assert.throws(() => decodeHeaderValue(value), /not valid UTF-8/, value);
    }
  });

  it('rejects broken escapes', () => {
    for (const value of ['100%', '%4', '%G0', 'a%%20']) {
      assert.throws(() => decodeHeaderValue(value), /invalid percent-encoding/, value);
    }
  });

  it('keeps a leading byte order mark', () => {
    assert.equal(decodeHeaderValue('%EF%BB%BFx'), '\uFEFFx');
  });

  it('unquotes RFC 7230 quoted strings first', () => {
    assert.equal(decodeHeaderValue('"a \\"quoted\\" value"'), 'a "quoted" value');
    assert.equal(decodeHeaderValue('"Euro%20%E2%82%AC"'), 'Euro €');
  });

  it('rejects broken quoted strings', () => {
    assert.throws(() => decodeHeaderValue('"open'), /unterminated/);
    assert.throws(() => decodeHeaderValue('"a"b"'), /double quote/);
  });

  it('treats raw non-ASCII bytes as UTF-8', () => {
    const latin1 = Buffer.from('€', 'utf8').toString('latin1');

    assert.equal(decodeHeaderValue(latin1), '€');
  });
});
