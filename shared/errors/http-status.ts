import { ErrorCode } from './errors.ts';

/** HTTP status for each error code. One table, so every service answers a failure the same way. */
export const HTTP_STATUS_BY_CODE: Readonly<Record<ErrorCode, number>> = Object.freeze({
  [ErrorCode.Config]: 500,
  [ErrorCode.Input]: 400,
  [ErrorCode.Unauthenticated]: 401,
  [ErrorCode.Forbidden]: 403,
  [ErrorCode.NotFound]: 404,
  [ErrorCode.Conflict]: 409,
  [ErrorCode.PayloadTooLarge]: 413,
  [ErrorCode.UnsupportedMediaType]: 415,
  [ErrorCode.Upstream]: 502,
  [ErrorCode.Unavailable]: 503,
  [ErrorCode.UpstreamTimeout]: 504,
  [ErrorCode.StorageFull]: 507,
});

export function toHttpStatus(code: ErrorCode): number {
  return HTTP_STATUS_BY_CODE[code];
}
