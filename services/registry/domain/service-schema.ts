import type { ValidateFunction } from 'ajv';
import type { ServiceInput } from './service-input.ts';
import { HTTP_URL_FORMAT, createAjv } from './validation.ts';

/** Upper bound of short text fields such as `name` and `identifier`, in characters. */
export const MAX_SHORT_TEXT_LENGTH = 512;

/** Upper bound of long text fields such as `description`, in characters. */
export const MAX_LONG_TEXT_LENGTH = 64 * 1024;

const shortText = { type: 'string', maxLength: MAX_SHORT_TEXT_LENGTH } as const;
const requiredText = { type: 'string', minLength: 1, maxLength: MAX_SHORT_TEXT_LENGTH } as const;
const longText = { type: 'string', maxLength: MAX_LONG_TEXT_LENGTH } as const;
const httpUrl = { type: 'string', format: HTTP_URL_FORMAT, maxLength: 8192 } as const;

const labels = { type: 'object', additionalProperties: shortText, maxProperties: 256 } as const;

const parameterValues = {
  type: 'object',
  additionalProperties: { type: 'array', items: { type: 'string', maxLength: 8192 }, maxItems: 64 },
  maxProperties: 256,
} as const;

/** HTTP field names are RFC 9110 tokens, and field values must not contain CR, LF or NUL. */
const headerValues = {
  type: 'object',
  propertyNames: { pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$", maxLength: 256 },
  additionalProperties: { type: 'array', items: { type: 'string', pattern: '^[^\\r\\n\\u0000]*$', maxLength: 8192 }, maxItems: 64 },
  maxProperties: 256,
} as const;

const requestParameters = {
  type: 'object',
  properties: { headers: headerValues, queryParameters: parameterValues },
} as const;

const csrfInfo = { type: 'object', required: ['tokenEndpointURL'], properties: { tokenEndpointURL: httpUrl } } as const;

const oauth = {
  type: 'object',
  required: ['url', 'clientId', 'clientSecret'],
  properties: { url: httpUrl, clientId: requiredText, clientSecret: { type: 'string', minLength: 1, maxLength: 8192 } },
} as const;

const basic = {
  type: 'object',
  required: ['username', 'password'],
  properties: { username: requiredText, password: { type: 'string', minLength: 1, maxLength: 8192 } },
} as const;

const credentials = {
  type: 'object',
  properties: {
    oauth: { ...oauth, properties: { ...oauth.properties, requestParameters, csrfInfo } },
    basic: { ...basic, properties: { ...basic.properties, csrfInfo } },
    certificateGen: { type: 'object', required: ['commonName'], properties: { commonName: requiredText, csrfInfo } },
  },
} as const;

const spec = { type: 'object' } as const;

/** JSON schema of the service model. Cross-field rules live in `service-rules.ts`. */
export const SERVICE_SCHEMA = {
  type: 'object',
  required: ['provider', 'name', 'description'],
  properties: {
    provider: requiredText,
    name: requiredText,
    description: longText,
    shortDescription: longText,
    identifier: requiredText,
    labels,
    api: {
      type: 'object',
      required: ['targetUrl'],
      properties: {
        targetUrl: httpUrl,
        credentials,
        spec,
        specificationUrl: httpUrl,
        apiType: shortText,
        requestParameters,
        specificationCredentials: { type: 'object', properties: { oauth, basic } },
        specificationRequestParameters: requestParameters,
      },
    },
    events: { type: 'object', properties: { spec } },
    documentation: {
      type: 'object',
      required: ['displayName', 'description', 'type'],
      properties: {
        displayName: shortText,
        description: longText,
        type: shortText,
        tags: { type: 'array', items: shortText, maxItems: 256 },
        docs: {
          type: 'array',
          maxItems: 256,
          items: { type: 'object', required: ['title', 'type', 'source'], properties: { title: shortText, type: shortText, source: longText } },
        },
      },
    },
  },
} as const;

/** Body of `POST /v1/applications`. */
export type ApplicationInput = { name: string; description?: string; labels?: Record<string, string> };

export const APPLICATION_SCHEMA = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string' }, description: longText, labels },
} as const;

export type RegistryValidators = {
  service: ValidateFunction<ServiceInput>;
  application: ValidateFunction<ApplicationInput>;
};

/** Compile the registry's schemas. Call once at startup. */
export function compileRegistryValidators(): RegistryValidators {
  const ajv = createAjv();
  return {
    service: ajv.compile<ServiceInput>(SERVICE_SCHEMA),
    application: ajv.compile<ApplicationInput>(APPLICATION_SCHEMA),
  };
}
