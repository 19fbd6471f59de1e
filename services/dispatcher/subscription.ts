import { createHash } from 'node:crypto';
import { anySourceSubject, eventSubject } from '../../shared/events/subject.ts';

export const TypeMatching = { Standard: 'standard', Exact: 'exact' } as const;
export type TypeMatching = (typeof TypeMatching)[keyof typeof TypeMatching];

export const BackoffKind = { Exponential: 'exponential', Linear: 'linear' } as const;
export type BackoffKind = (typeof BackoffKind)[keyof typeof BackoffKind];

/** Concurrent deliveries per subscription when `config.maxInFlightMessages` is not given. */
export const DEFAULT_MAX_IN_FLIGHT_MESSAGES = 10;
export const DEFAULT_MAX_DELIVER = 10;
export const DEFAULT_BACKOFF_DELAY_MS = 500;
export const DEFAULT_MAX_BACKOFF_MS = 60_000;
/** Per-request timeout of a delivery to the sink. */
export const DEFAULT_DELIVERY_TIMEOUT_MS = 10_000;

export type DeliveryOptions = {
  /** Attempts before the event goes to the dead-letter stream, counting the first one. */
  maxDeliver: number;
  backoff: BackoffKind;
  backoffDelayMs: number;
  maxBackoffMs: number;
  timeoutMs: number;
  /** When false, an event that cannot be delivered is dropped (and logged) instead of dead-lettered. */
  deadLetter: boolean;
};

/** A subscription as stored in the `ferry-subscriptions` KV bucket under its name. */
export type Subscription = {
  name: string;
  sink: string;
  /** The application whose events match. Undefined means in-platform events (from `/publish`). */
  source?: string;
  types: string[];
  typeMatching: TypeMatching;
  config: { maxInFlightMessages: number };
  delivery: DeliveryOptions;
  createdAt: string;
  updatedAt: string;
};

/** A subscription request body after schema validation, before defaults. */
export type SubscriptionInput = {
  name: string;
  sink: string;
  source?: string;
  types: string[];
  typeMatching?: TypeMatching;
  config?: { maxInFlightMessages?: number };
  delivery?: Partial<DeliveryOptions>;
};

/** Fill in the defaults of a validated request body and stamp the times. */
export function toSubscription(input: SubscriptionInput, now: Date, previous?: Subscription): Subscription {
  const delivery = input.delivery ?? {};
  const subscription: Subscription = {
    name: input.name,
    sink: input.sink,
    types: [...new Set(input.types)],
    typeMatching: input.typeMatching ?? TypeMatching.Standard,
    config: { maxInFlightMessages: input.config?.maxInFlightMessages ?? DEFAULT_MAX_IN_FLIGHT_MESSAGES },
    delivery: {
      maxDeliver: delivery.maxDeliver ?? DEFAULT_MAX_DELIVER,
      backoff: delivery.backoff ?? BackoffKind.Exponential,
      backoffDelayMs: delivery.backoffDelayMs ?? DEFAULT_BACKOFF_DELAY_MS,
      maxBackoffMs: delivery.maxBackoffMs ?? Math.max(DEFAULT_MAX_BACKOFF_MS, delivery.backoffDelayMs ?? 0),
      timeoutMs: delivery.timeoutMs ?? DEFAULT_DELIVERY_TIMEOUT_MS,
      deadLetter: delivery.deadLetter ?? true,
    },
    createdAt: previous?.createdAt ?? now.toISOString(),
    updatedAt: now.toISOString(),
  };
  if (input.source !== undefined) {
    subscription.source = input.source;
  }
  return subscription;
}

/** One durable consumer of a subscription. nats-server 2.9 allows one filter subject per consumer, so each type gets its own. */
export type ConsumerSpec = {
  name: string;
  type: string;
  filterSubject: string;
};

/** Consumer names start with this, then the subscription name, `_` and a hash of the filter subject. */
export const CONSUMER_NAME_PREFIX = 'ferry_';

/**
 * The filter subject of one type. `standard` matches the type from the subscription's application
 * (or in-platform events when no source is set). `exact` matches the type from every application
 * and from the platform.
 */
export function toFilterSubject(subscription: Pick<Subscription, 'source' | 'typeMatching'>, type: string): string {
  return subscription.typeMatching === TypeMatching.Exact ? anySourceSubject(type) : eventSubject(subscription.source, type);
}

/**
 * Name the consumer of one filter subject. Subscription names are DNS-1123 labels, which cannot
 * contain `_`, so the prefix up to the second `_` identifies the subscription unambiguously.
 */
export function toConsumerName(subscriptionName: string, filterSubject: string): string {
  const hash = createHash('sha256').update(filterSubject).digest('hex').slice(0, 16);
  return `${CONSUMER_NAME_PREFIX}${subscriptionName}_${hash}`;
}

/** Return the subscription a consumer belongs to, or undefined for a consumer Ferry did not create. */
export function subscriptionOfConsumer(consumerName: string): string | undefined {
  const match = /^ferry_([a-z0-9-]+)_[0-9a-f]{16}$/.exec(consumerName);
  return match?.[1];
}

export function toConsumerSpecs(subscription: Subscription): ConsumerSpec[] {
  return subscription.types.map((type) => {
    const filterSubject = toFilterSubject(subscription, type);
    return { name: toConsumerName(subscription.name, filterSubject), type, filterSubject };
  });
}
