import type { Logger } from 'pino';
import { NOT_BEFORE_BACKDATE_MS } from '../pki/certificates.ts';
import type { ClientIdentity, IdentityDirectory } from '../http/client-identity.ts';
import type { NatsConnectionState } from './connection.ts';
import { KvCache } from './kv-cache.ts';
import { KV_BUCKETS } from './names.ts';
import type { NatsResources } from './resources.ts';

/**
 * A record in the revocations bucket. Two kinds of key:
 * - `<sha256 hex of the certificate DER>` revokes one certificate;
 * - `app.<application>` revokes every certificate of that application issued at or before `revokedAt`,
 *   which is how deleting an application revokes all its certificates.
 */
export type RevocationRecord = { fingerprint?: string; application?: string; revokedAt: string; reason?: string };

/** Key of the record that revokes all of an application's certificates issued up to its `revokedAt`. */
export function applicationRevocationKey(application: string): string {
  return `app.${application}`;
}


/** True when the identity's certificate is revoked by fingerprint or by an application-wide cut-off. */
export function isIdentityRevoked(identity: ClientIdentity, revocations: { get(key: string): RevocationRecord | undefined }): boolean {
  if (revocations.get(identity.fingerprint) !== undefined) {
    return true;
  }
  const cutOff = revocations.get(applicationRevocationKey(identity.commonName));
  if (cutOff === undefined || identity.notBefore === undefined) {
    return false;
  }
  return identity.notBefore.getTime() + NOT_BEFORE_BACKDATE_MS <= Date.parse(cutOff.revokedAt);
}

/** Application and revocation caches, fed by KV watches, which serve the mTLS identity checks. */
export type WatchedIdentityDirectory = IdentityDirectory & {
  applications: KvCache<Record<string, unknown>>;
  revocations: KvCache<RevocationRecord>;
  readonly ready: boolean;
  stop(): void;
};

/** Start the caches behind mTLS checks. Resolves once both hold their buckets' contents. */
export async function startIdentityDirectory(
  resources: NatsResources,
  connection: NatsConnectionState,
  log: Logger,
): Promise<WatchedIdentityDirectory> {
  const applications = new KvCache<Record<string, unknown>>({
    kv: resources.kv.applications,
    bucket: KV_BUCKETS.applications,
    decode: (entry) => entry.json<Record<string, unknown>>(),
    log,
    connection,
  });
  const revocations = new KvCache<RevocationRecord>({
    kv: resources.kv.revocations,
    bucket: KV_BUCKETS.revocations,
    decode: (entry) => entry.json<RevocationRecord>(),
    log,
    connection,
  });
  await Promise.all([applications.start(), revocations.start()]);

  return {
    applications,
    revocations,
    get ready() {
      return applications.ready && revocations.ready;
    },
    isRevoked: (identity) => isIdentityRevoked(identity, revocations),
    applicationExists: (name) => applications.has(name),
    stop() {
      applications.stop();
      revocations.stop();
    },
  };
}
