import { randomUUID } from 'node:crypto';
import type { ErrorRequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { FerryError, InputError, PayloadTooLargeError, UnavailableError } from './errors.ts';
import { toHttpStatus } from './http-status.ts';

/** The JSON error body of every Ferry route that does not define its own shape. */
export type ErrorBody = { code: number; error: string };

export type HttpFailure = {
  status: number;
  body: ErrorBody;
  headers: Record<string, string>;
  /** Set for unexpected errors: the id under which the error was logged. */
  logId?: string;
};

/**
 * Errors raised by body parsers (the `http-errors` shape used by express and `raw-body`). They carry
 * a `type` and a client status, and their message is safe to show.
 */
type BodyParserError = Error & { type: string; status: number; expose?: boolean; limit?: number };

function isBodyParserError(error: unknown): error is BodyParserError {
  return (
    error instanceof Error &&
    typeof (error as Partial<BodyParserError>).type === 'string' &&
    typeof (error as Partial<BodyParserError>).status === 'number'
  );
}

/** Convert a body parser error into the matching Ferry error, keeping the original as `cause`. */
export function fromBodyParserError(error: BodyParserError): FerryError | undefined {
  switch (error.type) {
    case 'entity.too.large':
      return new PayloadTooLargeError(`request body exceeds the limit of ${error.limit ?? 'unknown'} bytes`, {
        cause: error,
      });
    case 'entity.parse.failed':
      return new InputError('request body is not valid JSON', { cause: error });
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new InputError(error.message, { cause: error });
    case 'request.aborted':
      return new InputError('request was aborted by the client', { cause: error });
    default:
      return undefined;
  }
}

/**
 * Map any thrown value to a status, the `{code, error}` body and headers. Unknown errors become 500
 * with an opaque log id, and their message is not shown to the caller.
 */
export function toHttpFailure(error: unknown): HttpFailure {
  const known = error instanceof FerryError ? error : isBodyParserError(error) ? fromBodyParserError(error) : undefined;

  if (known) {
    const status = toHttpStatus(known.code);
    const headers: Record<string, string> = {};
    if (known instanceof UnavailableError) {
      headers['retry-after'] = String(known.retryAfterSeconds);
    }
    return { status, body: { code: status, error: known.message }, headers };
  }

  if (isBodyParserError(error) && error.status >= 400 && error.status < 500 && error.expose === true) {
    return { status: error.status, body: { code: error.status, error: error.message }, headers: {} };
  }

  const logId = randomUUID();
  return {
    status: 500,
    body: { code: 500, error: `internal error, log id ${logId}` },
    headers: {},
    logId,
  };
}

/** Send a mapped failure. Does nothing when the response has already started. */
export function sendHttpFailure(res: Response, failure: HttpFailure): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.status(failure.status).set(failure.headers).json(failure.body);
}

/**
 * Create the express error handler that answers `{"code": <status>, "error": "<message>"}`. Server
 * errors are logged at error level, client errors at debug.
 */
export function createErrorHandler(log: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    const failure = toHttpFailure(error);
    const requestLog = (req as { log?: Logger }).log ?? log;

    if (failure.status >= 500) {
      requestLog.error({ err: error, logId: failure.logId, status: failure.status }, 'request failed');
    } else {
      requestLog.debug({ status: failure.status, reason: failure.body.error }, 'request rejected');
    }
    sendHttpFailure(res, failure);
  };
}
