import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ConfigError } from '../errors/errors.ts';

/** AES-256-GCM: 32-byte keys, 12-byte nonces, 16-byte tags. */
const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const ALGORITHM = 'aes-256-gcm';

/** A value encrypted at rest. `kid` names the key, so keys can be rotated without re-encrypting at once. */
export type EncryptedValue = { kid: string; iv: string; tag: string; data: string };

/**
 * Keys for credentials at rest, parsed from `<kid>:<base64 key>` entries separated by commas or new
 * lines. The first entry encrypts; every entry decrypts, which allows rotation: put the new key first
 * and keep the old one until every record is rewritten.
 */
export class CredentialsCipher {
  private constructor(
    private readonly activeKid: string,
    private readonly keys: ReadonlyMap<string, Buffer>,
  ) {}

  static parse(text: string, source: string): CredentialsCipher {
    const entries = text
      .split(/[,\n]/)
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'));
    if (entries.length === 0) {
      throw new ConfigError(`${source} contains no credentials key; expected lines of <kid>:<base64 of 32 bytes>`);
    }

    const keys = new Map<string, Buffer>();
    for (const entry of entries) {
      const at = entry.indexOf(':');
      const kid = entry.slice(0, at);
      const key = Buffer.from(entry.slice(at + 1), 'base64');
      if (at <= 0 || !/^[A-Za-z0-9._-]{1,64}$/.test(kid) || key.length !== KEY_BYTES) {
        throw new ConfigError(`${source} has an invalid credentials key entry; expected <kid>:<base64 of 32 bytes>`);
      }
      keys.set(kid, key);
    }
    return new CredentialsCipher(entries[0]!.slice(0, entries[0]!.indexOf(':')), keys);
  }

  /** Load keys from `inline` (a configuration value) or else from `file`. */
  static async load(inline: string | undefined, file: string): Promise<CredentialsCipher> {
    if (inline !== undefined) {
      return CredentialsCipher.parse(inline, 'FERRY_CREDENTIALS_KEYS');
    }
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      throw new ConfigError(
        `cannot read the credentials keys from ${file}: set FERRY_CREDENTIALS_KEYS or FERRY_CREDENTIALS_KEY_FILE, or run npm start once to create it`,
        { cause: error },
      );
    }
    return CredentialsCipher.parse(text, file);
  }

  /** Make a new key entry for a key file: `<kid>:<base64 key>`. */
  static generateEntry(kid: string): string {
    return `${kid}:${randomBytes(KEY_BYTES).toString('base64')}`;
  }

  encrypt(plaintext: string): EncryptedValue {
    const iv = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv(ALGORITHM, this.keys.get(this.activeKid)!, iv);
    cipher.setAAD(Buffer.from(this.activeKid));
    const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return { kid: this.activeKid, iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), data: data.toString('base64') };
  }

  /** Decrypt a stored value. Throws when the key is unknown or the value was tampered with. */
  decrypt(value: EncryptedValue): string {
    const key = this.keys.get(value.kid);
    if (!key) {
      throw new Error(`credentials key '${value.kid}' is not configured`);
    }
    const decipher = createDecipheriv(ALGORITHM, key, Buffer.from(value.iv, 'base64'));
    decipher.setAAD(Buffer.from(value.kid));
    decipher.setAuthTag(Buffer.from(value.tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(value.data, 'base64')), decipher.final()]).toString('utf8');
  }

  encryptJson(value: unknown): EncryptedValue {
    return this.encrypt(JSON.stringify(value));
  }

  decryptJson<T>(value: EncryptedValue): T {
    return JSON.parse(this.decrypt(value)) as T;
  }
}
