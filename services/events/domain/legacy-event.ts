/**
 * The legacy Kyma event format of `POST /{app}/v1/events`, and its conversion to a CloudEvent:
 * `type = <event-type>.<event-type-version>`, `source = <app>`, extension `eventtypeversion`,
 * `datacontenttype: application/json` and a generated `id` when none was sent.
 */
import { randomUUID } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import type { StoredCloudEvent } from '../../../shared/events/stored-event.ts';
import { InputError } from '../../../shared/errors/errors.ts';
import { isCloudEventsString, isRfc3339Timestamp } from './attribute-rules.ts';
import { rawMemberText, valueStart } from './json-spans.ts';

/** Field names of the legacy body. */
export const LegacyField = {
  EventType: 'event-type',
  EventTypeVersion: 'event-type-version',
  EventId: 'event-id',
  EventTime: 'event-time',
  Data: 'data',
} as const;

/** Detail types of a legacy `validation_violation`. */
export const LegacyProblem = { MissingField: 'missing_field', InvalidField: 'invalid_field' } as const;
export type LegacyProblem = (typeof LegacyProblem)[keyof typeof LegacyProblem];

const EVENT_TYPE_VERSION = /^[a-zA-Z0-9]+$/;
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** A legacy body that fails a field rule, reported as `validation_violation` with one detail. */
export class LegacyValidationError extends InputError {
  readonly field: string;
  readonly problem: LegacyProblem;

  constructor(field: string, problem: LegacyProblem, message: string) {
    super(message);
    this.field = field;
    this.problem = problem;
  }
}

/** A legacy body that is empty or not a JSON object, reported as `bad_payload_syntax`. */
export class LegacyPayloadSyntaxError extends InputError {}

/** A parsed legacy event: the CloudEvent to store and the event id for the response. */
export type LegacyEvent = { eventId: string; event: StoredCloudEvent };

function missing(field: string): LegacyValidationError {
  return new LegacyValidationError(field, LegacyProblem.MissingField, `${field} is required`);
}

function invalid(field: string, expected: string): LegacyValidationError {
  return new LegacyValidationError(field, LegacyProblem.InvalidField, `${field} must be ${expected}`);
}

/** Read a required string field: absent, null or "" is missing; another type or a control character is invalid. */
function readRequiredString(body: Record<string, unknown>, field: string): string {
  const value = body[field];
  if (value === undefined || value === null || value === '') {
    throw missing(field);
  }
  if (typeof value !== 'string' || !isCloudEventsString(value)) {
    throw invalid(field, 'a string without control characters');
  }
  return value;
}

function parseLegacyBody(body: Buffer): { text: string; fields: Record<string, unknown> } {
  if (body.length === 0) {
    throw new LegacyPayloadSyntaxError('request body is empty: send a JSON object');
  }
  if (!isUtf8(body)) {
    throw new LegacyPayloadSyntaxError('request body is not valid UTF-8');
  }

  const text = body.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new LegacyPayloadSyntaxError(`request body is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new LegacyPayloadSyntaxError('request body must be a JSON object');
  }
  return { text, fields: parsed as Record<string, unknown> };
}

function readEventId(body: Record<string, unknown>): string | undefined {
  const value = body[LegacyField.EventId];
  if (value === undefined || value === null) {
    return undefined;
  }
  if (typeof value !== 'string' || !UUID.test(value)) {
    throw invalid(LegacyField.EventId, 'a UUID such as 8954ad1c-78ed-4c58-a639-68bd44031de0');
  }
  return value;
}

/**
 * Parse a legacy body and convert it into the CloudEvent to store. `application` is the authenticated
 * application, which becomes `source`. Fields are checked in the order Kyma checked them.
 */
export function parseLegacyEvent(body: Buffer, application: string): LegacyEvent {
  const { text, fields } = parseLegacyBody(body);

  const eventType = readRequiredString(fields, LegacyField.EventType);
  const version = readRequiredString(fields, LegacyField.EventTypeVersion);
  if (!EVENT_TYPE_VERSION.test(version)) {
    throw invalid(LegacyField.EventTypeVersion, 'alphanumeric, such as v1');
  }
  const time = readRequiredString(fields, LegacyField.EventTime);
  if (!isRfc3339Timestamp(time)) {
    throw invalid(LegacyField.EventTime, 'an RFC 3339 timestamp such as 2024-05-01T10:00:00Z');
  }
  const eventId = readEventId(fields) ?? randomUUID();
  const data = fields[LegacyField.Data];
  if (data === undefined || data === null || data === '') {
    throw missing(LegacyField.Data);
  }

  return {
    eventId,
    event: {
      attributes: {
        id: eventId,
        source: application,
        type: `${eventType}.${version}`,
        time,
        datacontenttype: 'application/json',
        eventtypeversion: version,
      },
      // The data is stored as it was sent, so numbers keep their exact text.
      data: { kind: 'json-text', text: rawMemberText(text, valueStart(text), LegacyField.Data)! },
    },
  };
}
