import { AckPolicy, DeliverPolicy, JetStreamApiError, type JetStreamClient, type JetStreamManager, type ConsumerConfig } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { EVENTS_STREAM } from '../../shared/nats/names.ts';
import { ConsumerWorker } from './consumer-worker.ts';
import type { DeadLetterStore } from './deadletter-store.ts';
import type { DeliveryMetrics } from './delivery-metrics.ts';
import { Semaphore } from './semaphore.ts';
import type { SinkClient } from './sink-client.ts';
import { subscriptionOfConsumer, toConsumerSpecs, type ConsumerSpec, type Subscription } from './subscription.ts';

/** JetStream API error code for "consumer not found". */
const CONSUMER_NOT_FOUND = 10014;

function isConsumerNotFound(error: unknown): boolean {
  return error instanceof JetStreamApiError && error.code === CONSUMER_NOT_FOUND;
}

export type ConsumerState = { name: string; type: string; filterSubject: string; exists: boolean; pending?: number; ackPending?: number };

/** Workers of one subscription on this replica. They share one limiter of `maxInFlightMessages` slots. */
type Running = { workers: ConsumerWorker[]; settingsKey: string; subscription: Subscription; limiter: Semaphore };

/** Settings that the consumers and workers are built with. A change restarts the subscription's workers. */
function toSettingsKey(subscription: Subscription): string {
  return `${subscription.config.maxInFlightMessages}:${subscription.delivery.timeoutMs}`;
}

function createRunning(subscription: Subscription): Running {
  return { workers: [], settingsKey: toSettingsKey(subscription), subscription, limiter: new Semaphore(subscription.config.maxInFlightMessages) };
}

export type ReconcilerDependencies = {
  js: JetStreamClient;
  jsm: JetStreamManager;
  sink: SinkClient;
  deadLetters: DeadLetterStore;
  metrics: DeliveryMetrics;
  log: Logger;
  ackWaitMarginMs: number;
};

/**
 * Keeps the JetStream consumers and this replica's workers in line with the subscriptions. Every
 * replica runs one, fed by the KV watch. Creating a consumer is idempotent, so replicas may race.
 * Changes of one subscription are applied one at a time, in order.
 */
export class ConsumerReconciler {
  private readonly running = new Map<string, Running>();
  private readonly queues = new Map<string, Promise<void>>();
  private stopped = false;

  constructor(private readonly deps: ReconcilerDependencies) {}

  ackWaitMs(subscription: Subscription): number {
    return subscription.delivery.timeoutMs + this.deps.ackWaitMarginMs;
  }

  /**
   * Apply a subscription's current value, or its deletion when `subscription` is undefined. The
   * returned promise rejects when the consumers could not be changed. The failure is also logged.
   */
  reconcile(name: string, subscription: Subscription | undefined): Promise<void> {
    const previous = this.queues.get(name) ?? Promise.resolve();
    const next = previous.then(() => (this.stopped ? undefined : this.apply(name, subscription)));
    this.queues.set(
      name,
      next.catch((error: unknown) => this.deps.log.error({ err: error, subscription: name }, 'cannot reconcile subscription consumers')),
    );
    return next;
  }

  /** Delete Ferry consumers whose subscription or type no longer exists, for example after changes made while this replica was down. */
  async removeOrphans(subscriptions: Iterable<Subscription>): Promise<void> {
    const wanted = new Set<string>();
    for (const subscription of subscriptions) {
      for (const spec of toConsumerSpecs(subscription)) {
        wanted.add(spec.name);
      }
    }
    for await (const info of this.deps.jsm.consumers.list(EVENTS_STREAM)) {
      const name = info.config.durable_name ?? info.name;
      if (subscriptionOfConsumer(name) !== undefined && !wanted.has(name)) {
        await this.deleteConsumer(name);
      }
    }
  }

  /** Report each consumer of the subscription with its pending counts, for the subscription's `status`. */
  async describeConsumers(subscription: Subscription): Promise<ConsumerState[]> {
    const states: ConsumerState[] = [];
    for (const spec of toConsumerSpecs(subscription)) {
      const base = { name: spec.name, type: spec.type, filterSubject: spec.filterSubject };
      try {
        const info = await this.deps.jsm.consumers.info(EVENTS_STREAM, spec.name);
        states.push({ ...base, exists: true, pending: info.num_pending, ackPending: info.num_ack_pending });
      } catch (error) {
        if (!isConsumerNotFound(error)) {
          throw error;
        }
        states.push({ ...base, exists: false });
      }
    }
    return states;
  }

  isRunning(name: string): boolean {
    return this.running.has(name);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.queues.values());
    await Promise.all([...this.running.values()].flatMap((entry) => entry.workers.map((worker) => worker.stop())));
    this.running.clear();
  }

  private async apply(name: string, subscription: Subscription | undefined): Promise<void> {
    const specs = subscription === undefined ? [] : toConsumerSpecs(subscription);
    const wanted = new Set(specs.map((spec) => spec.name));
    for (const spec of subscription === undefined ? [] : specs) {
      await this.ensureConsumer(spec, subscription!);
    }

    const current = this.running.get(name);
    const sameSettings = current !== undefined && subscription !== undefined && current.settingsKey === toSettingsKey(subscription);
    if (current !== undefined) {
      const stopping = sameSettings ? current.workers.filter((worker) => !wanted.has(worker.spec.name)) : current.workers;
      await Promise.all(stopping.map((worker) => worker.stop()));
      current.workers = current.workers.filter((worker) => !stopping.includes(worker));
    }

    if (subscription === undefined) {
      this.running.delete(name);
      this.deps.metrics.remove(name);
      this.deps.log.info({ subscription: name }, 'subscription removed');
    } else {
      const entry = sameSettings ? current : createRunning(subscription);
      entry.subscription = subscription;
      this.startWorkers(entry, specs);
      this.running.set(name, entry);
      this.deps.log.info({ subscription: name, consumers: entry.workers.length, sink: subscription.sink }, 'subscription active');
    }
    await this.deleteStaleConsumers(name, wanted);
  }

  private startWorkers(entry: Running, specs: ConsumerSpec[]): void {
    const name = entry.subscription.name;
    for (const spec of specs) {
      if (entry.workers.some((worker) => worker.spec.name === spec.name)) {
        continue;
      }
      const worker = new ConsumerWorker(name, spec, {
        js: this.deps.js,
        sink: this.deps.sink,
        deadLetters: this.deps.deadLetters,
        metrics: this.deps.metrics,
        log: this.deps.log,
        currentSubscription: () => this.running.get(name)?.subscription,
        limiter: entry.limiter,
        ackWaitMs: this.ackWaitMs(entry.subscription),
      });
      worker.start();
      entry.workers.push(worker);
    }
  }

  private async deleteStaleConsumers(name: string, wanted: Set<string>): Promise<void> {
    for await (const info of this.deps.jsm.consumers.list(EVENTS_STREAM)) {
      const consumer = info.config.durable_name ?? info.name;
      if (subscriptionOfConsumer(consumer) === name && !wanted.has(consumer)) {
        await this.deleteConsumer(consumer);
      }
    }
  }

  private async deleteConsumer(consumer: string): Promise<void> {
    try {
      await this.deps.jsm.consumers.delete(EVENTS_STREAM, consumer);
      this.deps.log.info({ consumer }, 'consumer deleted');
    } catch (error) {
      if (!isConsumerNotFound(error)) {
        throw error;
      }
    }
  }

  /**
   * Create the consumer, or update its ack wait and `max_ack_pending`. A new consumer delivers the
   * events stored from its creation on. The API creates it before it responds, so no event stored
   * after the response is missed. An existing consumer keeps its position and its pending events.
   */
  private async ensureConsumer(spec: ConsumerSpec, subscription: Subscription): Promise<void> {
    const mutable = {
      ack_wait: nanos(this.ackWaitMs(subscription)),
      max_ack_pending: subscription.config.maxInFlightMessages,
      max_deliver: -1,
      description: `Ferry subscription ${subscription.name}, type ${spec.type}`,
    };

    let existing: ConsumerConfig | undefined;
    try {
      existing = (await this.deps.jsm.consumers.info(EVENTS_STREAM, spec.name)).config;
    } catch (error) {
      if (!isConsumerNotFound(error)) {
        throw error;
      }
    }

    if (existing === undefined) {
      await this.deps.jsm.consumers.add(EVENTS_STREAM, {
        ...mutable,
        durable_name: spec.name,
        filter_subject: spec.filterSubject,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.New,
      });
      this.deps.log.info({ subscription: subscription.name, consumer: spec.name, filterSubject: spec.filterSubject }, 'consumer created');
      return;
    }
    if (existing.ack_wait !== mutable.ack_wait || existing.max_ack_pending !== mutable.max_ack_pending) {
      await this.deps.jsm.consumers.update(EVENTS_STREAM, spec.name, mutable);
      this.deps.log.info({ subscription: subscription.name, consumer: spec.name }, 'consumer updated');
    }
  }
}
