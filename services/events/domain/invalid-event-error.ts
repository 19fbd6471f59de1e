import { InputError } from '../../../shared/errors/errors.ts';

/**
 * An event that breaks a CloudEvents rule. The message is `<attribute>: <problem>`, for example
 * `time: must be an RFC 3339 timestamp, got '2024-01-01T10:00'`, and is shown to the caller as is.
 */
export class InvalidEventError extends InputError {
  /** The attribute, member or part of the request at fault, such as `id` or `batch[2].time`. */
  readonly attribute: string;
  readonly problem: string;

  constructor(attribute: string, problem: string, options?: ErrorOptions) {
    super(`${attribute}: ${problem}`, options);
    this.attribute = attribute;
    this.problem = problem;
  }

  /** Return the same error for the event at `index` of a batch: `batch[<index>].<attribute>`. */
  inBatch(index: number): InvalidEventError {
    return new InvalidEventError(`batch[${index}].${this.attribute}`, this.problem, { cause: this });
  }
}

/** Describe a JSON value's type for messages: `null`, `array`, `object`, `string`, `number` or `boolean`. */
export function describeJsonType(value: unknown): string {
  if (value === null) {
    return 'null';
  }
  return Array.isArray(value) ? 'array' : typeof value;
}

/** Quote a value for a message, cut to 80 characters so a huge attribute does not flood the response or the log. */
export function quoteForMessage(value: string): string {
  const excerpt = value.length > 80 ? `${value.slice(0, 80)}…` : value;
  return JSON.stringify(excerpt);
}
