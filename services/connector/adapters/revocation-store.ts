import type { KV } from '@nats-io/kv';
import { UnavailableError } from '../../../shared/errors/errors.ts';
import type { RevocationRecord } from '../../../shared/nats/identity-directory.ts';

export type RevocationStore = {
  /**
   * Revoke the certificate whose DER has the SHA-256 `fingerprint` (lower-case hex). Every replica of
   * every service learns of it through its KV watch. Revoking again is harmless.
   */
  revokeCertificate(fingerprint: string, details: { application?: string; reason: string }): Promise<void>;
};

/** Create the writer of the revocations KV bucket. */
export function createRevocationStore(kv: KV, now: () => number = Date.now): RevocationStore {
  return {
    async revokeCertificate(fingerprint, details) {
      const record: RevocationRecord = {
        fingerprint,
        ...(details.application === undefined ? {} : { application: details.application }),
        revokedAt: new Date(now()).toISOString(),
        reason: details.reason,
      };
      try {
        await kv.put(fingerprint, JSON.stringify(record));
      } catch (error) {
        throw new UnavailableError('revocation store is unavailable, try again', { cause: error });
      }
    },
  };
}
