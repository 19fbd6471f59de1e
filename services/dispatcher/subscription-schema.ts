import { Ajv, type JSONSchemaType } from 'ajv';
import { InputError } from '../../shared/errors/errors.ts';
import { formatAjvError } from '../../shared/validation/format-ajv-error.ts';
import type { SubscriptionInput } from './subscription.ts';

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

const SUBSCRIPTION_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'sink', 'types'],
  properties: {
    name: { type: 'string', pattern: DNS_LABEL_PATTERN },
    sink: { type: 'string', minLength: 1, maxLength: MAX_SINK_LENGTH },
    source: { type: 'string', pattern: DNS_LABEL_PATTERN },
    types: TYPES_SCHEMA,
    typeMatching: { type: 'string', enum: ['standard', 'exact'] },
    config: SUBSCRIPTION_CONFIG_SCHEMA,
    delivery: DELIVERY_SCHEMA,
  },
} as const;

export type SubscriptionValidator = (body: unknown) => SubscriptionInput;

/** Compile the subscription body schema once. The returned function throws `InputError` naming the first invalid field. */
export function createSubscriptionValidator(): SubscriptionValidator {
  const ajv = new Ajv({ allErrors: false, strict: true });
  const validate = ajv.compile(SUBSCRIPTION_SCHEMA as unknown as JSONSchemaType<SubscriptionInput>);

  return (body) => {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new InputError('request body must be a JSON object');
    }
    if (!validate(body)) {
      throw new InputError(formatAjvError(validate.errors![0]!, 'request body', body));
    }
    const delivery = body.delivery;
    if (delivery?.backoffDelayMs !== undefined && delivery.maxBackoffMs !== undefined && delivery.maxBackoffMs < delivery.backoffDelayMs) {
      throw new InputError(`\`delivery.maxBackoffMs\` must be at least \`delivery.backoffDelayMs\` (${delivery.backoffDelayMs}), got ${delivery.maxBackoffMs}`);
    }
    return body;
  };
}
