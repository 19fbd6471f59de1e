import { BackoffKind, type DeliveryOptions } from './subscription.ts';

/** Outcome of one delivery attempt, which decides what happens to the event next. */
export const DeliveryVerdict = {
  /** A 2xx: acknowledge. */
  Delivered: 'delivered',
  /** 5xx, 404, 408, 409, 429, a timeout or a network error: try again after a backoff. */
  Retry: 'retry',
  /** Any other status: retrying will not help, so dead-letter at once. */
  Reject: 'reject',
} as const;
export type DeliveryVerdict = (typeof DeliveryVerdict)[keyof typeof DeliveryVerdict];

const RETRYABLE_CLIENT_STATUSES: ReadonlySet<number> = new Set([404, 408, 409, 429]);

/** Classify a sink's response the way Knative does. `status` is undefined when no response arrived. */
export function classifyStatus(status: number | undefined): DeliveryVerdict {
  if (status === undefined) {
    return DeliveryVerdict.Retry;
  }
  if (status >= 200 && status < 300) {
    return DeliveryVerdict.Delivered;
  }
  if (status >= 500 || RETRYABLE_CLIENT_STATUSES.has(status)) {
    return DeliveryVerdict.Retry;
  }
  return DeliveryVerdict.Reject;
}

/**
 * Compute the delay before attempt `attempt + 1`, where `attempt` counts from 1. Exponential backoff
 * doubles `backoffDelayMs` per attempt and linear backoff adds it, both capped at `maxBackoffMs`.
 * A `Retry-After` delay replaces the backoff when it is longer, also capped at `maxBackoffMs`.
 */
export function computeBackoffMs(
  options: Pick<DeliveryOptions, 'backoff' | 'backoffDelayMs' | 'maxBackoffMs'>,
  attempt: number,
  retryAfterMs?: number,
): number {
  const steps = Math.max(1, attempt);
  const raw = options.backoff === BackoffKind.Linear ? options.backoffDelayMs * steps : options.backoffDelayMs * 2 ** Math.min(steps - 1, 30);
  const backoff = Math.min(raw, options.maxBackoffMs);
  if (retryAfterMs === undefined) {
    return backoff;
  }
  return Math.min(Math.max(backoff, retryAfterMs), options.maxBackoffMs);
}

/** HTTP date in the preferred form of RFC 9110 §5.6.7, for example `Sun, 06 Nov 1994 08:49:37 GMT`. */
const IMF_FIXDATE = /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/;

/**
 * Parse a `Retry-After` value (RFC 9110 §10.2.3): whole seconds or an HTTP date in the IMF-fixdate
 * form (the obsolete date forms are ignored). Returns
 * milliseconds from `now`, or undefined when the value is missing or invalid.
 */
export function parseRetryAfterMs(value: string | undefined, now: Date): number | undefined {
  if (value === undefined || value.trim() === '') {
    return undefined;
  }
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) {
    return Number(trimmed) * 1000;
  }
  if (!IMF_FIXDATE.test(trimmed)) {
    return undefined;
  }
  const date = Date.parse(trimmed);
  return Math.max(0, date - now.getTime());
}
