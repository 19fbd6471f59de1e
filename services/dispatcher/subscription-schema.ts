import { Ajv, type JSONSchemaType } from 'ajv';
import { InputError } from '../../shared/errors/errors.ts';
import { formatAjvError } from '../../shared/validation/format-ajv-error.ts';
import {
  DELIVERY_SCHEMA,
  DNS_LABEL_PATTERN,
  MAX_SINK_LENGTH,
  SUBSCRIPTION_CONFIG_SCHEMA,
  TYPES_SCHEMA,
} from '../../shared/validation/subscription-fields.ts';
import type { SubscriptionInput } from './subscription.ts';

export { DNS_LABEL_PATTERN };

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
