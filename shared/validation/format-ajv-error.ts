import type { ErrorObject } from 'ajv';

/** Turn an ajv JSON pointer (`/delivery/maxDeliver`, `/types/0`) into a field path (`delivery.maxDeliver`, `types[0]`). */
export function toFieldPath(instancePath: string): string {
  let path = '';
  for (const segment of instancePath.split('/').slice(1)) {
    const name = segment.replace(/~1/g, '/').replace(/~0/g, '~');
    path += /^\d+$/.test(name) ? `[${name}]` : path === '' ? name : `.${name}`;
  }
  return path;
}

function describeValue(value: unknown): string {
  const text = JSON.stringify(value);
  if (text === undefined) {
    return String(value);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * Describe the first ajv error as "`field` must ..., got ...". `root` names the document when the
 * error is about the whole of it. Messages name the field and the expectation, never the schema.
 */
export function formatAjvError(error: ErrorObject, root: string, data: unknown): string {
  const field = toFieldPath(error.instancePath);
  const params = error.params as Record<string, unknown>;

  if (error.keyword === 'required') {
    const missing = String(params.missingProperty);
    return `\`${field === '' ? missing : `${field}.${missing}`}\` is required`;
  }
  if (error.keyword === 'additionalProperties') {
    const extra = String(params.additionalProperty);
    return `\`${field === '' ? extra : `${field}.${extra}`}\` is not a known field`;
  }

  const subject = field === '' ? root : `\`${field}\``;
  const value = readPointer(data, error.instancePath);
  const expectation = error.keyword === 'enum' ? `must be one of ${(params.allowedValues as unknown[]).map(describeValue).join(', ')}` : error.message;
  return `${subject} ${expectation ?? 'is invalid'}, got ${describeValue(value)}`;
}

function readPointer(data: unknown, pointer: string): unknown {
  let current = data;
  for (const segment of pointer.split('/').slice(1)) {
    if (current === null || typeof current !== 'object') {
      return undefined;
    }
    current = (current as Record<string, unknown>)[segment.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return current;
}
