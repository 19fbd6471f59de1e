import type { JetStreamClient, JsMsg, ConsumerMessages } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import { EVENTS_STREAM } from '../../shared/nats/names.ts';
import type { DeadLetterStore } from './deadletter-store.ts';
import { deliverEvent } from './deliver-event.ts';
import type { DeliveryMetrics } from './delivery-metrics.ts';
import { DeliveryVerdict, classifyStatus, computeBackoffMs, parseRetryAfterMs } from './retry-policy.ts';
import type { Semaphore } from './semaphore.ts';
import type { SinkClient, SinkResult } from './sink-client.ts';
import { decodeStoredEvent, type StoredEvent } from './stored-event.ts';
import type { ConsumerSpec, Subscription } from './subscription.ts';

/** Delay before a worker binds to its consumer again after the consumer or NATS was unavailable. */
export const WORKER_RESTART_DELAY_MS = 1000;
/** Delay before an event is offered again when its subscription is being removed or dead-lettering failed. */
export const REQUEUE_DELAY_MS = 1000;

export type WorkerDependencies = {
  js: JetStreamClient;
  sink: SinkClient;
  deadLetters: DeadLetterStore;
  metrics: DeliveryMetrics;
  log: Logger;
  /** The subscription's current settings. The sink and delivery options are read per event, so updates apply at once. */
  currentSubscription: () => Subscription | undefined;
  /** Bounds concurrent deliveries across every consumer of the subscription. */
  limiter: Semaphore;
  ackWaitMs: number;
};

export type Failure = { status: number | undefined; message: string; reason: string; retryAfter?: string };

export function describeFailure(result: SinkResult): Failure {
  if (result.status === undefined) {
    return { status: undefined, message: result.error, reason: result.code === 'ETIMEDOUT' ? 'timeout' : 'network' };
  }
  const body = result.body.trim();
  return {
    status: result.status,
    message: `sink responded with ${result.status}${body === '' ? '' : `: ${body}`}`,
    reason: String(result.status),
    retryAfter: result.retryAfter,
  };
}

/**
 * Pulls the events of one durable consumer and POSTs each to the subscription's sink. Replicas bind
 * to the same consumer, and JetStream hands each event to one of them.
 */
export class ConsumerWorker {
  private stopped = false;
  private messages: ConsumerMessages | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private loop: Promise<void> | undefined;

  constructor(
    readonly subscriptionName: string,
    readonly spec: ConsumerSpec,
    private readonly deps: WorkerDependencies,
  ) {}

  start(): void {
    this.loop = this.run();
  }

  /** Stop pulling and wait for the deliveries in flight, which are bounded by the request timeout. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.messages?.close().catch(() => undefined);
    await this.loop;
    await Promise.all(this.inFlight);
  }

  private async run(): Promise<void> {
    const { js, log, limiter, ackWaitMs } = this.deps;
    const fields = { subscription: this.subscriptionName, consumer: this.spec.name };

    while (!this.stopped) {
      try {
        const consumer = await js.consumers.get(EVENTS_STREAM, this.spec.name);
        const batch = this.deps.currentSubscription()?.config.maxInFlightMessages ?? 1;
        this.messages = await consumer.consume({ max_messages: batch });
        if (this.stopped) {
          await this.messages.close();
          break;
        }
        log.debug(fields, 'consumer bound');

        for await (const message of this.messages) {
          if (!limiter.tryAcquire()) {
            // The event is already ours, so keep it from being redelivered while it waits for a slot.
            const keepAlive = setInterval(() => message.working(), Math.max(1000, ackWaitMs / 3));
            await limiter.acquire();
            clearInterval(keepAlive);
          }
          const task = this.handle(message).finally(() => {
            limiter.release();
            this.inFlight.delete(task);
          });
          this.inFlight.add(task);
        }
      } catch (error) {
        if (!this.stopped) {
          log.warn({ ...fields, err: error }, 'consumer unavailable, binding again');
        }
      }
      if (!this.stopped) {
        await new Promise((resolve) => setTimeout(resolve, WORKER_RESTART_DELAY_MS));
      }
    }
  }

  private async handle(message: JsMsg): Promise<void> {
    const subscription = this.deps.currentSubscription();
    if (subscription === undefined) {
      message.nak(REQUEUE_DELAY_MS);
      return;
    }

    let event: StoredEvent;
    try {
      event = decodeStoredEvent(message.data);
    } catch (error) {
      const text = error instanceof Error ? error.message : String(error);
      await this.deadLetter(message, subscription, { status: undefined, message: text, reason: 'invalid-event' }, undefined);
      return;
    }

    const started = performance.now();
    const result = await deliverEvent(this.deps.sink, subscription, event, {
      onProgress: () => message.working(),
      intervalMs: Math.max(1000, this.deps.ackWaitMs / 3),
    });
    this.deps.metrics.recordAttempt(subscription.name, performance.now() - started);

    const verdict = classifyStatus(result.status);
    if (verdict === DeliveryVerdict.Delivered) {
      message.ack();
      this.deps.metrics.recordDelivered(subscription.name, message.time);
      return;
    }
    await this.handleFailure(message, subscription, event, verdict, describeFailure(result));
  }

  private async handleFailure(message: JsMsg, subscription: Subscription, event: StoredEvent, verdict: DeliveryVerdict, failure: Failure): Promise<void> {
    const attempt = message.info.deliveryCount;
    const fields = { subscription: subscription.name, eventId: event.id, type: event.type, attempt, status: failure.status };
    this.deps.metrics.recordFailure(subscription.name, failure.reason, {
      message: failure.message,
      ...(failure.status === undefined ? {} : { status: failure.status }),
      eventId: event.id,
      at: new Date().toISOString(),
    });

    if (verdict === DeliveryVerdict.Retry && attempt < subscription.delivery.maxDeliver) {
      const delayMs = computeBackoffMs(subscription.delivery, attempt, parseRetryAfterMs(failure.retryAfter, new Date()));
      message.nak(delayMs);
      this.deps.log.warn({ ...fields, delayMs, error: failure.message }, 'delivery failed, retrying');
      return;
    }
    await this.deadLetter(message, subscription, failure, event);
  }

  private async deadLetter(message: JsMsg, subscription: Subscription, failure: Failure, event: StoredEvent | undefined): Promise<void> {
    const attempts = message.info.deliveryCount;
    const fields = { subscription: subscription.name, eventId: event?.id, attempts, status: failure.status, error: failure.message };

    if (!subscription.delivery.deadLetter) {
      message.term();
      this.deps.log.error(fields, 'event dropped, dead-lettering is off');
      return;
    }
    try {
      await this.deps.deadLetters.add(message.data, {
        subscription: subscription.name,
        attempts,
        lastStatus: failure.status,
        lastError: failure.message,
        eventSubject: message.subject,
        eventSequence: message.seq,
      });
    } catch (error) {
      message.nak(REQUEUE_DELAY_MS);
      this.deps.log.warn({ ...fields, err: error }, 'cannot store dead letter, retrying');
      return;
    }
    message.term();
    this.deps.metrics.recordDeadLettered(subscription.name);
    this.deps.log.error(fields, 'event dead-lettered');
  }
}
