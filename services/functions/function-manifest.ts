import { Ajv, type JSONSchemaType } from 'ajv';
import { ConfigError } from '../../shared/errors/errors.ts';
import { formatAjvError } from '../../shared/validation/format-ajv-error.ts';
import { DELIVERY_SCHEMA, DNS_LABEL_PATTERN, SUBSCRIPTION_CONFIG_SCHEMA, TYPES_SCHEMA } from '../../shared/validation/subscription-fields.ts';

/** One subscription declared in `function.json`. The sink is always the Function itself. */
export type DeclaredSubscription = {
  /** Subscription name. Defaults to the Function's name, with `-<index>` after the first. */
  name?: string;
  source?: string;
  types: string[];
  typeMatching?: 'standard' | 'exact';
  config?: { maxInFlightMessages?: number };
  delivery?: Record<string, unknown>;
};

/** The contents of `functions/<name>/function.json`. */
export type FunctionManifest = {
  description?: string;
  /** Overrides the service's `FERRY_FUNCTIONS_TIMEOUT_MS` for this Function. */
  timeoutMs?: number;
  subscriptions: DeclaredSubscription[];
};

const MANIFEST_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['subscriptions'],
  properties: {
    description: { type: 'string', maxLength: 1024 },
    timeoutMs: { type: 'integer', minimum: 1, maximum: 600_000 },
    subscriptions: {
      type: 'array',
      maxItems: 20,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['types'],
        properties: {
          name: { type: 'string', pattern: DNS_LABEL_PATTERN },
          source: { type: 'string', pattern: DNS_LABEL_PATTERN },
          types: TYPES_SCHEMA,
          typeMatching: { type: 'string', enum: ['standard', 'exact'] },
          config: SUBSCRIPTION_CONFIG_SCHEMA,
          delivery: DELIVERY_SCHEMA,
        },
      },
    },
  },
} as const;

export type ManifestValidator = (functionName: string, manifest: unknown) => FunctionManifest;

/** Compile the `function.json` schema once. The validator throws `ConfigError` naming the Function and the field. */
export function createManifestValidator(): ManifestValidator {
  const validate = new Ajv({ strict: true }).compile(MANIFEST_SCHEMA as unknown as JSONSchemaType<FunctionManifest>);
  return (functionName, manifest) => {
    if (!validate(manifest)) {
      throw new ConfigError(`function '${functionName}': function.json is invalid: ${formatAjvError(validate.errors![0]!, 'function.json', manifest)}`);
    }
    return manifest;
  };
}
