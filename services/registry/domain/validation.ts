import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { InputError } from '../../../shared/errors/errors.ts';

/** Format name for absolute http(s) URLs, used by the registry's schemas. */
export const HTTP_URL_FORMAT = 'http-url';

export function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

/** Create the Ajv instance of the registry: every error reported with its value, no type coercion, unknown fields allowed. */
export function createAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, verbose: true, coerceTypes: false, useDefaults: false, strict: true });
  ajv.addFormat(HTTP_URL_FORMAT, { type: 'string', validate: isHttpUrl });
  return ajv;
}

/** Turn an Ajv instance path (`/api/credentials/0`) into the dotted form used in messages (`api.credentials[0]`). */
export function toFieldPath(instancePath: string, child?: string): string {
  const segments = instancePath === '' ? [] : instancePath.slice(1).split('/');
  if (child !== undefined) {
    segments.push(child);
  }

  let path = '';
  for (const raw of segments) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (/^\d+$/.test(segment)) {
      path += `[${segment}]`;
    } else {
      path += path === '' ? segment : `.${segment}`;
    }
  }
  return path === '' ? 'body' : path;
}

function describeValue(value: unknown): string {
  if (value === null) {
    return 'null';
  }
  if (Array.isArray(value)) {
    return 'an array';
  }
  if (typeof value === 'string') {
    return value.length > 80 ? `'${value.slice(0, 80)}...'` : `'${value}'`;
  }
  if (typeof value === 'object') {
    return 'an object';
  }
  if (typeof value === 'number' || typeof value === 'boolean') {
    return `${typeof value} ${value}`;
  }
  return value === undefined ? 'nothing' : typeof value;
}

/** Write one Ajv error as a sentence that names the field and what was expected. */
export function describeAjvError(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;

  switch (error.keyword) {
    case 'required':
      return `${toFieldPath(error.instancePath, String(params.missingProperty))} is required`;
    case 'type': {
      const expected = String(params.type) === 'object' ? 'a JSON object' : `of type ${String(params.type)}`;
      return `${toFieldPath(error.instancePath)} must be ${expected}, got ${describeValue(error.data)}`;
    }
    case 'format':
      return `${toFieldPath(error.instancePath)} must be an absolute http(s) URL, got ${describeValue(error.data)}`;
    case 'minLength':
      return `${toFieldPath(error.instancePath)} must not be empty`;
    case 'maxLength':
      return `${toFieldPath(error.instancePath)} must be at most ${String(params.limit)} characters long`;
    case 'maxItems':
      return `${toFieldPath(error.instancePath)} must have at most ${String(params.limit)} items`;
    case 'maxProperties':
      return `${toFieldPath(error.instancePath)} must have at most ${String(params.limit)} entries`;
    case 'pattern':
      if (error.propertyName !== undefined) {
        return `${toFieldPath(error.instancePath)} has an invalid name ${describeValue(error.propertyName)}`;
      }
      return `${toFieldPath(error.instancePath)} has an invalid value ${describeValue(error.data)}`;
    case 'propertyNames':
      return '';
    default:
      return `${toFieldPath(error.instancePath)} ${error.message ?? 'is invalid'}`;
  }
}

/**
 * Check `body` against a compiled schema. Throws `InputError` listing every problem with its JSON
 * path; on success the body has the schema's type.
 */
export function assertValid<T>(validate: ValidateFunction<T>, body: unknown): asserts body is T {
  if (validate(body)) {
    return;
  }

  // A `propertyNames` failure repeats the `pattern` error of the name, so it maps to an empty message.
  const messages = [...new Set((validate.errors ?? []).map(describeAjvError))].filter((message) => message !== '');
  throw new InputError(messages.join('; '));
}
