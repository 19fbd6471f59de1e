/**
 * Responses of the legacy route `POST /{app}/v1/events`, in the Kyma shape:
 * `{"event-id","status":"","reason":""}` on success and
 * `{status, type, message, details:[{field, type, message}]}` on failure.
 */
import { toHttpFailure } from '../../../shared/errors/http-handler.ts';
import { LegacyPayloadSyntaxError, LegacyValidationError } from '../domain/legacy-event.ts';

export type LegacyErrorDetail = { field: string; type: string; message: string };
export type LegacyErrorBody = { status: number; type: string; message: string; details: LegacyErrorDetail[] };
export type LegacySuccessBody = { 'event-id': string; status: ''; reason: '' };

export type LegacyFailure = { status: number; body: LegacyErrorBody; headers: Record<string, string>; logId?: string };

/** Legacy error `type` for statuses that have no field-level detail. */
const TYPE_BY_STATUS: Readonly<Record<number, string>> = {
  400: 'bad_request',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not_found',
  413: 'request_body_too_large',
  500: 'internal_server_error',
  503: 'service_unavailable',
  507: 'insufficient_storage',
};

export function createLegacySuccess(eventId: string): LegacySuccessBody {
  return { 'event-id': eventId, status: '', reason: '' };
}

/** Map any error to the legacy status, body and headers. Unknown errors become 500 with a log id. */
export function toLegacyFailure(error: unknown): LegacyFailure {
  if (error instanceof LegacyValidationError) {
    return {
      status: 400,
      body: { status: 400, type: 'validation_violation', message: error.message, details: [{ field: error.field, type: error.problem, message: error.message }] },
      headers: {},
    };
  }
  if (error instanceof LegacyPayloadSyntaxError) {
    return { status: 400, body: { status: 400, type: 'bad_payload_syntax', message: error.message, details: [] }, headers: {} };
  }

  const failure = toHttpFailure(error);
  const type = TYPE_BY_STATUS[failure.status] ?? (failure.status >= 500 ? 'internal_server_error' : 'bad_request');
  return {
    status: failure.status,
    body: { status: failure.status, type, message: failure.body.error, details: [] },
    headers: failure.headers,
    ...(failure.logId === undefined ? {} : { logId: failure.logId }),
  };
}
