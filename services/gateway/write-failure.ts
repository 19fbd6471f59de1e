import type { ServerResponse } from 'node:http';
import type { HttpFailure } from '../../shared/errors/http-handler.ts';
import type { Logger } from '../../shared/logging/logger.ts';

/**
 * Answer a failure with the `{code, error}` body on a plain `node:http` response, logging it as the
 * express error handler does: 5xx at error level, client mistakes at debug.
 */
export function writeFailure(res: ServerResponse, failure: HttpFailure, error: unknown, log: Logger, headers: Record<string, string> = {}): void {
  if (failure.status >= 500) {
    log.error({ err: error, logId: failure.logId, status: failure.status }, 'request failed');
  } else {
    log.debug({ status: failure.status, reason: failure.body.error }, 'request rejected');
  }

  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify(failure.body);
  res.writeHead(failure.status, { ...headers, ...failure.headers, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
