import { randomUUID } from 'node:crypto';
import type { KV } from '@nats-io/kv';
import type { Logger } from 'pino';
import type { DeliveryCounts, DeliveryMetrics } from './delivery-metrics.ts';

/** KV bucket of delivery counts, by `<subscription>.<replica id>`. The events service does not read it. */
export const STATUS_BUCKET = 'ferry-subscription-status';
/** How often a replica writes the counts that changed. */
export const STATUS_FLUSH_INTERVAL_MS = 1000;

function addCounts(total: DeliveryCounts, part: DeliveryCounts): void {
  total.delivered += part.delivered;
  total.failed += part.failed;
  total.deadLettered += part.deadLettered;
  if (part.lastError !== undefined && (total.lastError === undefined || part.lastError.at > total.lastError.at)) {
    total.lastError = part.lastError;
  }
}

/**
 * Shares delivery counts between replicas: each process writes its own counts under a key of its
 * own, and a subscription's status adds up every key of the subscription.
 * NOTE: each process start adds one key per subscription that it delivered for, and the keys stay
 * until the subscription is deleted.
 */
export class StatusStore {
  private readonly replicaId = randomUUID();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly kv: KV,
    private readonly metrics: DeliveryMetrics,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.flush(), STATUS_FLUSH_INTERVAL_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  /** Write the counts of every subscription that changed since the last flush. */
  async flush(): Promise<void> {
    for (const [subscription, counts] of this.metrics.takeChanged()) {
      try {
        await this.kv.put(`${subscription}.${this.replicaId}`, JSON.stringify(counts));
      } catch (error) {
        this.metrics.markChanged(subscription);
        this.log.warn({ err: error, subscription }, 'cannot store delivery counts, retrying');
      }
    }
  }

  /** Add up the stored counts of every replica. Falls back to this replica's counts when the bucket is unavailable. */
  async read(subscription: string): Promise<DeliveryCounts> {
    const total: DeliveryCounts = { delivered: 0, failed: 0, deadLettered: 0 };
    const own = `${subscription}.${this.replicaId}`;
    try {
      for await (const key of await this.kv.keys(`${subscription}.*`)) {
        if (key === own) {
          continue;
        }
        const entry = await this.kv.get(key);
        if (entry !== null && entry.operation === 'PUT') {
          addCounts(total, entry.json<DeliveryCounts>());
        }
      }
    } catch (error) {
      this.log.warn({ err: error, subscription }, 'cannot read delivery counts of other replicas');
    }
    addCounts(total, this.metrics.countsOf(subscription));
    return total;
  }

  /** Remove every replica's counts of a deleted subscription. */
  async remove(subscription: string): Promise<void> {
    for await (const key of await this.kv.keys(`${subscription}.*`)) {
      await this.kv.purge(key);
    }
  }
}
