import { Counter, Histogram, type Registry } from 'prom-client';

/** Delivery latency buckets in seconds, from 1 ms to 60 s. */
export const DELIVERY_DURATION_BUCKETS_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/**
 * Counts of one subscription on this replica since it started.
 * NOTE: counts are per replica and reset on restart, so with several replicas a subscription's
 * `status` shows only the share of the replica that served the GET. The Prometheus series add up.
 */
export type DeliveryCounts = {
  delivered: number;
  /** Attempts that did not succeed, including those that were retried later. */
  failed: number;
  deadLettered: number;
  lastError?: { message: string; status?: number; eventId: string; at: string };
};

/**
 * Counters and histograms per subscription, exported as Prometheus metrics and kept in memory for
 * the subscription's `status`.
 */
export class DeliveryMetrics {
  private readonly counts = new Map<string, DeliveryCounts>();
  private readonly delivered: Counter<'subscription'>;
  private readonly failed: Counter<'subscription' | 'reason'>;
  private readonly deadLettered: Counter<'subscription'>;
  private readonly duration: Histogram<'subscription'>;
  private readonly age: Histogram<'subscription'>;

  constructor(registry: Registry) {
    this.delivered = new Counter({
      name: 'ferry_dispatcher_events_delivered_total',
      help: 'Events acknowledged by the sink with a 2xx, by subscription',
      labelNames: ['subscription'] as const,
      registers: [registry],
    });
    this.failed = new Counter({
      name: 'ferry_dispatcher_delivery_failures_total',
      help: 'Delivery attempts that failed, by subscription and reason (status code, timeout or network)',
      labelNames: ['subscription', 'reason'] as const,
      registers: [registry],
    });
    this.deadLettered = new Counter({
      name: 'ferry_dispatcher_events_deadlettered_total',
      help: 'Events moved to the dead-letter stream, by subscription',
      labelNames: ['subscription'] as const,
      registers: [registry],
    });
    this.duration = new Histogram({
      name: 'ferry_dispatcher_delivery_duration_seconds',
      help: 'Duration of one POST to the sink in seconds, by subscription',
      labelNames: ['subscription'] as const,
      buckets: DELIVERY_DURATION_BUCKETS_SECONDS,
      registers: [registry],
    });
    this.age = new Histogram({
      name: 'ferry_dispatcher_event_age_seconds',
      help: 'Time from storing an event in JetStream to its successful delivery in seconds, by subscription',
      labelNames: ['subscription'] as const,
      buckets: DELIVERY_DURATION_BUCKETS_SECONDS,
      registers: [registry],
    });
  }

  countsOf(subscription: string): DeliveryCounts {
    let counts = this.counts.get(subscription);
    if (counts === undefined) {
      counts = { delivered: 0, failed: 0, deadLettered: 0 };
      this.counts.set(subscription, counts);
    }
    return counts;
  }

  recordAttempt(subscription: string, durationMs: number): void {
    this.duration.observe({ subscription }, durationMs / 1000);
  }

  recordDelivered(subscription: string, storedAt: Date): void {
    this.countsOf(subscription).delivered++;
    this.delivered.inc({ subscription });
    this.age.observe({ subscription }, Math.max(0, Date.now() - storedAt.getTime()) / 1000);
  }

  recordFailure(subscription: string, reason: string, error: NonNullable<DeliveryCounts['lastError']>): void {
    const counts = this.countsOf(subscription);
    counts.failed++;
    counts.lastError = error;
    this.failed.inc({ subscription, reason });
  }

  recordDeadLettered(subscription: string): void {
    this.countsOf(subscription).deadLettered++;
    this.deadLettered.inc({ subscription });
  }

  /** Forget a deleted subscription's counts and series. */
  remove(subscription: string): void {
    this.counts.delete(subscription);
    this.delivered.remove({ subscription });
    this.deadLettered.remove({ subscription });
    this.duration.remove({ subscription });
    this.age.remove({ subscription });
  }
}
