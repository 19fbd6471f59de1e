import type { ErrorRequestHandler } from 'express';
import { UnavailableError, isFerryError } from '../../../shared/errors/errors.ts';
import type { NatsConnectionState } from '../../../shared/nats/connection.ts';

/** Seconds a caller should wait before retrying while NATS is down. */
export const NATS_OUTAGE_RETRY_AFTER_SECONDS = 2;

/** True for errors of the body parser, which carry an HTTP `status` and a `type`. */
function isBodyParserError(error: unknown): boolean {
  return error instanceof Error && 'status' in error && 'type' in error;
}

/**
 * Create error middleware that turns unexpected errors raised while NATS is disconnected into
 * `UnavailableError`, so callers get 503 with `Retry-After` instead of 500. Register it before the
 * shared error handler.
 */
export function createNatsOutageMapper(state: NatsConnectionState): ErrorRequestHandler {
  return (error: unknown, _req, _res, next) => {
    if (isFerryError(error) || isBodyParserError(error) || state.connected) {
      next(error);
      return;
    }
    next(new UnavailableError('NATS is unavailable, retry later', { cause: error, retryAfterSeconds: NATS_OUTAGE_RETRY_AFTER_SECONDS }));
  };
}
