import { randomBytes } from 'node:crypto';
import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { ForbiddenError, UnavailableError } from '../../../shared/errors/errors.ts';
import { sha256Hex } from '../../../shared/http/client-identity.ts';

/** Random bytes in a one-time token. Sent as URL-safe base64, 86 characters. */
export const TOKEN_BYTES = 64;

/** Tokens we issue are 86 URL-safe base64 characters. Anything else cannot be one, so it is not looked up. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{86}$/;

/** The value stored under the SHA-256 of a token. The token itself is never stored. */
export type TokenRecord = {
  application: string;
  /** ISO 8601. */
  createdAt: string;
  /** ISO 8601. The bucket's max age removes the entry around then; this is the exact limit. */
  expiresAt: string;
};

/** A token that was found valid, with the KV revision that consuming it must match. */
export type FoundToken = { key: string; record: TokenRecord; revision: number };

export type TokenStore = {
  /** Create a token for `application`, valid for the configured TTL. Returns the token itself. */
  issue(application: string): Promise<string>;
  /** Look a token up without consuming it. Throws `ForbiddenError` when it is missing, unknown, used or expired. */
  find(token: unknown): Promise<FoundToken>;
  /**
   * Consume a found token. Exactly one of any number of concurrent calls for the same token succeeds,
   * on any replica: the delete only applies while the key is still at the revision that was read.
   */
  consume(found: FoundToken): Promise<void>;
};

export type TokenStoreOptions = {
  kv: KV;
  /** Lifetime of a token in milliseconds; the bucket's TTL is set to the same value. */
  ttlMs: number;
  /** Clock in epoch milliseconds, for tests. */
  now?: () => number;
};

/** KV keys are the hex SHA-256 of the token, so a leaked bucket does not leak usable tokens. */
export function tokenKey(token: string): string {
  return sha256Hex(Buffer.from(token, 'utf8'));
}

function unavailable(error: unknown): UnavailableError {
  return new UnavailableError('token store is unavailable, try again', { cause: error });
}

function parseRecord(value: Uint8Array): TokenRecord | undefined {
  try {
    const record = JSON.parse(Buffer.from(value).toString('utf8')) as Partial<TokenRecord>;
    const valid = typeof record.application === 'string' && typeof record.expiresAt === 'string' && typeof record.createdAt === 'string';
    return valid ? (record as TokenRecord) : undefined;
  } catch {
    return undefined;
  }
}

/** Create the token store over the tokens KV bucket. */
export function createTokenStore(options: TokenStoreOptions): TokenStore {
  const { kv, ttlMs } = options;
  const now = options.now ?? Date.now;

  return {
    async issue(application) {
      const token = randomBytes(TOKEN_BYTES).toString('base64url');
      const createdAt = now();
      const record: TokenRecord = {
        application,
        createdAt: new Date(createdAt).toISOString(),
        expiresAt: new Date(createdAt + ttlMs).toISOString(),
      };
      try {
        await kv.create(tokenKey(token), JSON.stringify(record));
      } catch (error) {
        throw unavailable(error);
      }
      return token;
    },

    async find(token) {
      if (Array.isArray(token)) {
        throw new ForbiddenError('the `token` query parameter must appear once');
      }
      if (typeof token !== 'string' || token === '') {
        throw new ForbiddenError('a token is required in the `token` query parameter');
      }
      if (!TOKEN_PATTERN.test(token)) {
        throw new ForbiddenError('token is unknown');
      }

      const key = tokenKey(token);
      let entry;
      try {
        entry = await kv.get(key);
      } catch (error) {
        throw unavailable(error);
      }
      if (entry === null) {
        throw new ForbiddenError('token is unknown or has expired');
      }
      if (entry.operation !== 'PUT') {
        throw new ForbiddenError('token has already been used');
      }

      const record = parseRecord(entry.value);
      if (record === undefined) {
        throw new ForbiddenError('token is unknown');
      }
      if (Date.parse(record.expiresAt) <= now()) {
        throw new ForbiddenError('token has expired');
      }
      return { key, record, revision: entry.revision };
    },

    async consume(found) {
      try {
        await kv.delete(found.key, { previousSeq: found.revision });
      } catch (error) {
        if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamWrongLastSequence) {
          throw new ForbiddenError('token has already been used', { cause: error });
        }
        throw unavailable(error);
      }
    },
  };
}
