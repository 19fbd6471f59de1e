import { JetStreamApiError } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { ConflictError, NotFoundError, UnavailableError } from '../../shared/errors/errors.ts';
import type { Subscription } from './subscription.ts';

/** JetStream API error code for "wrong last sequence", which a KV create or update with a revision raises on a race. */
const WRONG_LAST_SEQUENCE = 10071;

function isWrongLastSequence(error: unknown): boolean {
  return error instanceof JetStreamApiError && error.code === WRONG_LAST_SEQUENCE;
}

function toUnavailable(error: unknown): UnavailableError {
  return new UnavailableError('subscription store is unavailable, retry later', { cause: error });
}

export type StoredSubscription = { subscription: Subscription; revision: number };

/** Reads and writes subscriptions in the KV bucket. Writes check the revision, so concurrent updates get 409 instead of overwriting each other. */
export class SubscriptionStore {
  constructor(private readonly kv: KV) {}

  async get(name: string): Promise<StoredSubscription> {
    let entry;
    try {
      entry = await this.kv.get(name);
    } catch (error) {
      throw toUnavailable(error);
    }
    if (entry === null || entry.operation !== 'PUT') {
      throw new NotFoundError(`subscription '${name}' not found`);
    }
    return { subscription: entry.json<Subscription>(), revision: entry.revision };
  }

  async create(subscription: Subscription): Promise<void> {
    try {
      await this.kv.create(subscription.name, JSON.stringify(subscription));
    } catch (error) {
      if (isWrongLastSequence(error)) {
        throw new ConflictError(`subscription '${subscription.name}' already exists`, { cause: error });
      }
      throw toUnavailable(error);
    }
  }

  async update(subscription: Subscription, revision: number): Promise<void> {
    try {
      await this.kv.update(subscription.name, JSON.stringify(subscription), revision);
    } catch (error) {
      if (isWrongLastSequence(error)) {
        throw new ConflictError(`subscription '${subscription.name}' was changed concurrently, retry the update`, { cause: error });
      }
      throw toUnavailable(error);
    }
  }

  async delete(name: string): Promise<void> {
    await this.get(name);
    try {
      await this.kv.delete(name);
    } catch (error) {
      throw toUnavailable(error);
    }
  }
}
