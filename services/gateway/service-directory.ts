import type http from 'node:http';
import type { KV, KvWatchEntry } from '@nats-io/kv';
import type { EgressPolicyConfig } from '../../shared/config/common.ts';
import type { CredentialsCipher } from '../../shared/crypto/credentials-cipher.ts';
import { serviceKey, type ApiCredentials, type ServiceRecord } from '../../shared/model/service-record.ts';
import type { NatsConnectionState } from '../../shared/nats/connection.ts';
import { KvCache } from '../../shared/nats/kv-cache.ts';
import { KV_BUCKETS } from '../../shared/nats/names.ts';
import type { Logger } from '../../shared/logging/logger.ts';
import { buildServiceIndex, resolveService, type RoutableService, type ServiceIndex } from './service-index.ts';
import { assertLiteralAddressAllowed, createTargetAgent } from './target-agents.ts';
import { parseTargetBase, type TargetBase } from './target-url.ts';

/** A routable service with everything a request needs, prepared once per stored revision. */
export type PreparedTarget = {
  record: RoutableService;
  /** KV key of the record, which also keys its CSRF token. */
  key: string;
  base: TargetBase;
  /** Decrypted credentials; empty when none are configured. */
  credentials: ApiCredentials;
  /** `Authorization` value for Basic credentials (RFC 7617). */
  basicAuthorization: string | undefined;
  csrfUrl: URL | undefined;
  /** Keep-alive agent carrying the service's CA bundle and client certificate. */
  agent: http.Agent;
  /** Set when the target URL's host is an IP literal that the egress policy denies. */
  egressDenial: Error | undefined;
};

/** Reject stored values that lack the fields routing depends on. */
export function decodeServiceRecord(entry: KvWatchEntry): ServiceRecord {
  const record = entry.json<ServiceRecord>();
  if (typeof record?.application !== 'string' || typeof record.normalizedName !== 'string' || typeof record.id !== 'string') {
    throw new Error(`service record ${entry.key} lacks application, id or normalizedName`);
  }
  if (record.api !== undefined && typeof record.api.targetUrl !== 'string') {
    throw new Error(`service record ${entry.key} has an api without targetUrl`);
  }
  return record;
}

function toBasicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

function csrfEndpointOf(credentials: ApiCredentials): string | undefined {
  return (credentials.oauth?.csrfInfo ?? credentials.basic?.csrfInfo ?? credentials.certificateGen?.csrfInfo)?.tokenEndpointURL;
}

/**
 * The services bucket as a routing table. A KV watch keeps it current, so a registered service is
 * routable, and a deleted one unroutable, as soon as the change arrives. Credentials are decrypted
 * on the first request after each change, not on every request.
 */
export class ServiceDirectory {
  private readonly cache: KvCache<ServiceRecord>;
  private index: ServiceIndex | undefined;
  private readonly prepared = new Map<string, PreparedTarget>();

  constructor(
    kv: KV,
    private readonly cipher: CredentialsCipher,
    private readonly policy: EgressPolicyConfig,
    private readonly log: Logger,
    connection?: NatsConnectionState,
  ) {
    this.cache = new KvCache({ kv, bucket: KV_BUCKETS.services, decode: decodeServiceRecord, log, connection });
    this.cache.onChange((key) => this.forget(key));
  }

  async start(): Promise<void> {
    await this.cache.start();
  }

  /** Call `listener` with the KV key of every record that changes or is deleted. */
  onChange(listener: (key: string) => void): void {
    this.cache.onChange((key) => listener(key));
  }

  get ready(): boolean {
    return this.cache.ready;
  }

  stop(): void {
    this.cache.stop();
    for (const target of this.prepared.values()) {
      target.agent.destroy();
    }
    this.prepared.clear();
  }

  /** Resolve `/{app}/{service}` to a prepared target. Throws the errors of `resolveService`. */
  resolve(app: string, service: string): PreparedTarget {
    this.index ??= buildServiceIndex(this.cache.values());
    const record = resolveService(this.index, app, service);
    const key = serviceKey(record.application, record.id);

    const cached = this.prepared.get(key);
    if (cached !== undefined && cached.record === record) {
      return cached;
    }
    cached?.agent.destroy();
    const target = this.prepare(key, record);
    this.prepared.set(key, target);
    return target;
  }

  private forget(key: string): void {
    this.index = undefined;
    const stale = this.prepared.get(key);
    if (stale !== undefined) {
      stale.agent.destroy();
      this.prepared.delete(key);
    }
  }

  private prepare(key: string, record: RoutableService): PreparedTarget {
    const credentials = record.api.credentials === undefined ? {} : this.cipher.decryptJson<ApiCredentials>(record.api.credentials);
    const base = parseTargetBase(record.api.targetUrl);
    const csrfEndpoint = csrfEndpointOf(credentials);
    const agent = createTargetAgent(base.url.protocol, this.policy, {
      caBundle: record.api.caBundle,
      certificate: credentials.certificateGen?.certificate,
      privateKey: credentials.certificateGen?.privateKey,
    });

    let egressDenial: Error | undefined;
    try {
      assertLiteralAddressAllowed(base.url, this.policy);
    } catch (error) {
      egressDenial = error as Error;
    }

    this.log.debug({ app: record.application, serviceId: record.id, credentialType: record.api.credentialType }, 'service target prepared');
    return {
      record,
      key,
      base,
      credentials,
      basicAuthorization: credentials.basic === undefined ? undefined : toBasicAuthorization(credentials.basic.username, credentials.basic.password),
      csrfUrl: csrfEndpoint === undefined ? undefined : new URL(csrfEndpoint),
      agent,
      egressDenial,
    };
  }
}
