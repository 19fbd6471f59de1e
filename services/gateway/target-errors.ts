import { FerryError, UpstreamError, UpstreamTimeoutError } from '../../shared/errors/errors.ts';

/** Node and OpenSSL error codes of a failed TLS handshake or certificate check. */
const TLS_ERROR_CODES = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'EPROTO',
]);

/** A call that stayed silent for the configured time. Its message is that time, such as `1000 ms`. Mapped to 504. */
export class TargetTimeoutError extends Error {
  override readonly name = 'TargetTimeoutError';
}

function describeCause(code: string | undefined, message: string): string {
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
    case 'EPIPE':
      return 'connection reset';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host name cannot be resolved';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'host unreachable';
    case 'ERR_EGRESS_DENIED':
      return message;
    default:
      if (code !== undefined && (TLS_ERROR_CODES.has(code) || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_'))) {
        return `TLS handshake failed (${code}: ${message})`;
      }
      return code === undefined ? message : `${code}: ${message}`;
  }
}

/**
 * Turn a failed outbound call into the error the caller receives: 504 for a timeout, 502 naming the
 * cause for everything else. `what` names the call, for example `target https://erp.example/api`.
 */
export function toOutboundFailure(error: unknown, what: string): FerryError {
  if (error instanceof FerryError) {
    return error;
  }
  if (error instanceof TargetTimeoutError) {
    return new UpstreamTimeoutError(`${what} timed out after ${error.message} without a response`, { cause: error });
  }
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  return new UpstreamError(`${what} failed: ${describeCause(typeof code === 'string' ? code : undefined, message)}`, { cause: error });
}
