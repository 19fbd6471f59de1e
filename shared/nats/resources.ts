import {
  DiscardPolicy,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  jetstream,
  jetstreamManager,
  type JetStreamClient,
  type JetStreamManager,
  type StreamConfig,
} from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { Objm, type ObjectStore } from '@nats-io/obj';
import type { NatsConnection } from '@nats-io/transport-node';
import { nanos } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import {
  DEADLETTER_STREAM,
  DEADLETTER_SUBJECT_PREFIX,
  EVENTS_STREAM,
  EVENTS_SUBJECT_PREFIX,
  KV_BUCKETS,
  SPECS_OBJECT_STORE,
} from './names.ts';

/** Timeout of JetStream API requests, such as stream info and KV reads. */
export const JETSTREAM_API_TIMEOUT_MS = 5000;

/** Stream, KV and object store limits. Sizes are bytes, ages milliseconds, and 0 or -1 means no limit. */
export type NatsResourceSettings = {
  replicas: number;
  eventsMaxAgeMs: number;
  eventsMaxBytes: number;
  duplicateWindowMs: number;
  deadLetterMaxAgeMs: number;
  tokenTtlMs: number;
};

export type KvBuckets = { [K in keyof typeof KV_BUCKETS]: KV };

export type NatsResources = {
  js: JetStreamClient;
  jsm: JetStreamManager;
  kv: KvBuckets;
  specs: ObjectStore;
};

function isStreamNotFound(error: unknown): boolean {
  return error instanceof JetStreamApiError && error.code === 10059;
}

/** Fields of a desired stream config that differ from the stored one. */
function changedFields(current: StreamConfig, desired: Partial<StreamConfig>): string[] {
  return Object.entries(desired)
    .filter(([key, value]) => JSON.stringify(current[key as keyof StreamConfig]) !== JSON.stringify(value))
    .map(([key]) => key);
}

/** Create a stream, or update the fields that differ. Safe to run from many replicas at once. */
async function ensureStream(jsm: JetStreamManager, desired: Partial<StreamConfig> & { name: string }, log: Logger): Promise<void> {
  let current: StreamConfig | undefined;
  try {
    current = (await jsm.streams.info(desired.name)).config;
  } catch (error) {
    if (!isStreamNotFound(error)) {
      throw error;
    }
  }

  if (current === undefined) {
    try {
      await jsm.streams.add(desired);
      log.info({ stream: desired.name }, 'stream created');
      return;
    } catch (error) {
      // Another replica may have created it between our info and add. Fall through to the update.
      current = (await jsm.streams.info(desired.name)).config;
      log.debug({ err: error, stream: desired.name }, 'stream add raced with another replica');
    }
  }

  const changed = changedFields(current, desired);
  if (changed.length > 0) {
    await jsm.streams.update(desired.name, { ...current, ...desired });
    log.info({ stream: desired.name, changed }, 'stream updated');
  }
}

/** Stream names of KV buckets follow the KV convention `KV_<bucket>`. */
function kvStreamName(bucket: string): string {
  return `KV_${bucket}`;
}

async function ensureKv(kvm: Kvm, jsm: JetStreamManager, bucket: string, limits: { ttlMs: number; replicas: number; history: number }, log: Logger): Promise<KV> {
  const kv = await kvm.create(bucket, { ttl: limits.ttlMs, replicas: limits.replicas, history: limits.history });

  // `Kvm.create` binds to an existing bucket without applying new limits, so apply them here.
  await ensureStream(
    jsm,
    {
      name: kvStreamName(bucket),
      max_age: nanos(limits.ttlMs),
      num_replicas: limits.replicas,
      max_msgs_per_subject: limits.history,
    },
    log,
  );
  return kv;
}

/**
 * Create or update every stream, KV bucket and object store that Ferry uses. Idempotent: running it
 * again, from any number of replicas, changes only settings that differ.
 */
export async function ensureNatsResources(nc: NatsConnection, settings: NatsResourceSettings, log: Logger): Promise<NatsResources> {
  const jsm = await jetstreamManager(nc, { timeout: JETSTREAM_API_TIMEOUT_MS });
  const js = jetstream(nc, { timeout: JETSTREAM_API_TIMEOUT_MS });

  await ensureStream(
    jsm,
    {
      name: EVENTS_STREAM,
      subjects: [`${EVENTS_SUBJECT_PREFIX}.>`],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      discard: DiscardPolicy.New,
      max_age: nanos(settings.eventsMaxAgeMs),
      max_bytes: settings.eventsMaxBytes,
      num_replicas: settings.replicas,
      duplicate_window: nanos(settings.duplicateWindowMs),
    },
    log,
  );
  await ensureStream(
    jsm,
    {
      name: DEADLETTER_STREAM,
      subjects: [`${DEADLETTER_SUBJECT_PREFIX}.>`],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      max_age: nanos(settings.deadLetterMaxAgeMs),
      num_replicas: settings.replicas,
    },
    log,
  );

  const kvm = new Kvm(js);
  const persistent = { ttlMs: 0, replicas: settings.replicas, history: 1 };
  const kv: KvBuckets = {
    applications: await ensureKv(kvm, jsm, KV_BUCKETS.applications, persistent, log),
    services: await ensureKv(kvm, jsm, KV_BUCKETS.services, persistent, log),
    tokens: await ensureKv(kvm, jsm, KV_BUCKETS.tokens, { ...persistent, ttlMs: settings.tokenTtlMs }, log),
    revocations: await ensureKv(kvm, jsm, KV_BUCKETS.revocations, persistent, log),
    subscriptions: await ensureKv(kvm, jsm, KV_BUCKETS.subscriptions, persistent, log),
  };

  const specs = await new Objm(js).create(SPECS_OBJECT_STORE, { storage: StorageType.File, replicas: settings.replicas });

  return { js, jsm, kv, specs };
}

/** Check that the events stream responds, for `/readyz`. Returns the failure reason, or undefined. */
export async function probeJetStream(jsm: JetStreamManager): Promise<string | undefined> {
  try {
    await jsm.streams.info(EVENTS_STREAM);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}
