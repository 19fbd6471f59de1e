/** JSON Schema parts of a subscription, shared by the dispatcher's API and the functions service's `function.json`. */

/** DNS-1123 label: lower-case alphanumerics and `-`, at most 63 characters. Subscription and application names follow it. */
export const DNS_LABEL_PATTERN = '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$';
/** Maximum number of types per subscription. Each type is one JetStream consumer. */
export const MAX_TYPES_PER_SUBSCRIPTION = 50;
/** Maximum length of one event type. */
export const MAX_TYPE_LENGTH = 250;
export const MAX_SINK_LENGTH = 2048;

/** Delivery settings, shared by subscription bodies and `function.json`. */
export const DELIVERY_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    maxDeliver: { type: 'integer', minimum: 1, maximum: 1000 },
    backoff: { type: 'string', enum: ['exponential', 'linear'] },
    backoffDelayMs: { type: 'integer', minimum: 1, maximum: 3_600_000 },
    maxBackoffMs: { type: 'integer', minimum: 1, maximum: 86_400_000 },
    timeoutMs: { type: 'integer', minimum: 100, maximum: 600_000 },
    deadLetter: { type: 'boolean' },
  },
} as const;

export const SUBSCRIPTION_CONFIG_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: { maxInFlightMessages: { type: 'integer', minimum: 1, maximum: 1000 } },
} as const;

export const TYPES_SCHEMA = {
  type: 'array',
  minItems: 1,
  maxItems: MAX_TYPES_PER_SUBSCRIPTION,
  items: { type: 'string', minLength: 1, maxLength: MAX_TYPE_LENGTH },
} as const;

