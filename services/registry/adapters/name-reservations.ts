import type { JetStreamClient } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { isWrongRevision } from './kv-errors.ts';

/**
 * KV bucket of the registry's uniqueness reservations: normalized service names and identifiers per
 * application. Only the registry reads it, so it is created here and not with the shared resources.
 */
export const SERVICE_NAMES_BUCKET = 'ferry-service-names';

/**
 * How long a reservation without a service record is honoured, in milliseconds. It covers a create
 * that is still fetching its spec. After it, the reservation counts as left over by a crashed
 * request and may be taken over.
 */
export const RESERVATION_GRACE_MS = 60_000;

type Reservation = { serviceId: string; reservedAt: string };

/** Key of a normalized service name: `<app>.name.<normalized>` (only `[a-z0-9-]`, valid in a KV key). */
export function nameReservationKey(application: string, normalizedName: string): string {
  return `${application}.name.${normalizedName}`;
}

/** Key of an identifier: `<app>.identifier.<base64url>`, because identifiers may contain any character. */
export function identifierReservationKey(application: string, identifier: string): string {
  return `${application}.identifier.${Buffer.from(identifier, 'utf8').toString('base64url')}`;
}

/** Open or create the reservations bucket. */
export async function openNameReservations(js: JetStreamClient, replicas: number, now: () => number = Date.now): Promise<NameReservations> {
  const kv = await new Kvm(js).create(SERVICE_NAMES_BUCKET, { history: 1, replicas });
  return new NameReservations(kv, now);
}

/**
 * Race-safe claims on unique keys, built on `kv.create`: of two requests that reserve the same key
 * at once, exactly one succeeds.
 */
export class NameReservations {
  constructor(
    private readonly kv: KV,
    private readonly now: () => number,
  ) {}

  /**
   * Claim `key` for `serviceId`. Returns undefined on success, or the id of the service that owns
   * the key. `ownerExists` reports whether the owner's record exists, so claims left over by a
   * failed request can be taken over after `RESERVATION_GRACE_MS`.
   */
  async reserve(key: string, serviceId: string, ownerExists: (ownerId: string) => Promise<boolean>): Promise<string | undefined> {
    const value = JSON.stringify({ serviceId, reservedAt: new Date(this.now()).toISOString() } satisfies Reservation);
    try {
      await this.kv.create(key, value);
      return undefined;
    } catch (error) {
      if (!isWrongRevision(error)) {
        throw error;
      }
    }

    const entry = await this.kv.get(key);
    if (entry === null || entry.operation !== 'PUT') {
      // Released between our create and get: try once more, and report a conflict if that loses too.
      return this.kv.create(key, value).then(
        () => undefined,
        () => 'unknown',
      );
    }

    const holder = entry.json<Reservation>();
    if (holder.serviceId === serviceId) {
      return undefined;
    }
    const stale = Date.parse(holder.reservedAt) + RESERVATION_GRACE_MS < this.now() && !(await ownerExists(holder.serviceId));
    if (!stale) {
      return holder.serviceId;
    }
    try {
      await this.kv.update(key, value, entry.revision);
      return undefined;
    } catch (error) {
      if (isWrongRevision(error)) {
        return 'unknown';
      }
      throw error;
    }
  }

  /** Release `key` if `serviceId` holds it. */
  async release(key: string, serviceId: string): Promise<void> {
    const entry = await this.kv.get(key);
    if (entry === null || entry.operation !== 'PUT' || entry.json<Reservation>().serviceId !== serviceId) {
      return;
    }
    try {
      await this.kv.delete(key, { previousSeq: entry.revision });
    } catch (error) {
      // Someone else took the key over in the meantime; it is theirs now.
      if (!isWrongRevision(error)) {
        throw error;
      }
    }
  }
}
