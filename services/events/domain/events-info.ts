/**
 * `GET /{app}/v1/events/subscribed`: which event types of an application have subscribers, in the
 * Kyma shape `{"eventsInfo":[{name, version}]}`.
 */

/** The fields of a subscription record (dispatcher's `ferry-subscriptions` bucket) that this service reads. */
export type SubscriptionSummary = {
  name: string;
  /** The application whose events it receives; absent for in-platform events. */
  source?: string;
  /** Full types with version, such as `order.created.v1`. */
  types: readonly string[];
};

export type EventInfo = { name: string; version: string };

/** Read the summary out of a stored subscription record. Returns undefined for a record of another shape. */
export function toSubscriptionSummary(record: unknown): SubscriptionSummary | undefined {
  if (record === null || typeof record !== 'object') {
    return undefined;
  }
  const { name, source, types } = record as Record<string, unknown>;
  if (typeof name !== 'string' || !Array.isArray(types) || !types.every((type) => typeof type === 'string')) {
    return undefined;
  }
  return typeof source === 'string' ? { name, source, types } : { name, types };
}

/** Split `order.created.v1` into name `order.created` and version `v1`. A type without a dot has an empty version. */
export function splitEventType(type: string): EventInfo {
  const dot = type.lastIndexOf('.');
  return dot === -1 ? { name: type, version: '' } : { name: type.slice(0, dot), version: type.slice(dot + 1) };
}

/** List the distinct types that subscriptions with `source === application` ask for, sorted by name, then version. */
export function listSubscribedEvents(subscriptions: Iterable<SubscriptionSummary>, application: string): EventInfo[] {
  const seen = new Map<string, EventInfo>();
  for (const subscription of subscriptions) {
    if (subscription.source !== application) {
      continue;
    }
    for (const type of subscription.types) {
      seen.set(type, splitEventType(type));
    }
  }
  return [...seen.values()].sort((a, b) => (a.name === b.name ? compare(a.version, b.version) : compare(a.name, b.name)));
}

function compare(a: string, b: string): number {
  if (a < b) {
    return -1;
  }
  return a > b ? 1 : 0;
}
