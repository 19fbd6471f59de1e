import type { Logger } from 'pino';
import type { IdentityDirectory } from '../http/client-identity.ts';
import type { NatsConnectionState } from './connection.ts';
import { KvCache } from './kv-cache.ts';
import { KV_BUCKETS } from './names.ts';
import type { NatsResources } from './resources.ts';

/** A revocation record in the revocations bucket, keyed by the certificate's SHA-256 fingerprint. */
export type RevocationRecord = { fingerprint: string; application?: string; revokedAt: string; reason?: string };

/** Application and revocation caches, fed by KV watches, answering the mTLS identity checks. */
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
    isRevoked: (fingerprint) => revocations.has(fingerprint),
    applicationExists: (name) => applications.has(name),
    stop() {
      applications.stop();
      revocations.stop();
    },
  };
}
