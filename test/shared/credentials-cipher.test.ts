import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CredentialsCipher } from '../../shared/crypto/credentials-cipher.ts';
import { ConfigError } from '../../shared/errors/errors.ts';

describe('credentials cipher', () => {
  it('round-trips and hides the plaintext', () => {
    const cipher = CredentialsCipher.parse(CredentialsCipher.generateEntry('k1'), 'test');
    const sealed = cipher.encryptJson({ clientSecret: 's3cr3t' });
    assert.equal(sealed.kid, 'k1');
    assert.doesNotMatch(JSON.stringify(sealed), /s3cr3t/);
    assert.deepEqual(cipher.decryptJson(sealed), { clientSecret: 's3cr3t' });
  });

  it('decrypts with a rotated-out key and encrypts with the first', () => {
    const oldEntry = CredentialsCipher.generateEntry('old');
    const sealed = CredentialsCipher.parse(oldEntry, 'test').encrypt('value');
    const rotated = CredentialsCipher.parse(`${CredentialsCipher.generateEntry('new')}\n${oldEntry}`, 'test');
    assert.equal(rotated.decrypt(sealed), 'value');
    assert.equal(rotated.encrypt('value').kid, 'new');
  });

  it('detects tampering', () => {
    const cipher = CredentialsCipher.parse(CredentialsCipher.generateEntry('k1'), 'test');
    const sealed = cipher.encrypt('value');
    const data = Buffer.from(sealed.data, 'base64');
    data[0] = data[0]! ^ 1;
    assert.throws(() => cipher.decrypt({ ...sealed, data: data.toString('base64') }));
    assert.throws(() => cipher.decrypt({ ...sealed, kid: 'other' }), /credentials key 'other' is not configured/);
  });

  it('rejects malformed key entries', () => {
    for (const text of ['', 'nokey', 'k1:c2hvcnQ=', ':AAAA', `bad kid:${Buffer.alloc(32).toString('base64')}`]) {
      assert.throws(() => CredentialsCipher.parse(text, 'FERRY_CREDENTIALS_KEYS'), ConfigError, text);
    }
  });
});
