import { parseCommonConfig, type CommonConfig } from '../../shared/config/common.ts';
import { deepFreeze, readInteger, type Env } from '../../shared/config/env.ts';

/** Time a target, token endpoint or CSRF endpoint may stay silent before the call fails with 504. */
export const DEFAULT_TARGET_TIMEOUT_MS = 10_000;

/** Request bodies up to this size are buffered so that a 401 or 403 can be retried; larger ones stream without retry. */
export const DEFAULT_RETRY_BUFFER_BYTES = 1024 * 1024;

/** An OAuth token is dropped this long before its `expires_in` runs out, but never earlier than half its lifetime. */
export const DEFAULT_TOKEN_EXPIRY_MARGIN_MS = 30_000;

/** Cache lifetime of an OAuth token whose response has no `expires_in`. */
export const DEFAULT_TOKEN_TTL_WITHOUT_EXPIRY_MS = 60_000;

export type GatewayConfig = {
  common: Readonly<CommonConfig>;
  /** Idle time allowed on a call to a target, token or CSRF endpoint, in milliseconds. */
  timeoutMs: number;
  /** Largest request body, in bytes, that is buffered for a retry. */
  retryBufferBytes: number;
  tokenExpiryMarginMs: number;
  tokenTtlWithoutExpiryMs: number;
};

/** Parse the gateway service's settings. Throws `ConfigError` naming the first invalid variable. */
export function parseGatewayConfig(env: Env): Readonly<GatewayConfig> {
  return deepFreeze({
    common: parseCommonConfig(env),
    timeoutMs: readInteger(env, 'FERRY_GATEWAY_TIMEOUT_MS', DEFAULT_TARGET_TIMEOUT_MS, { min: 1, max: 600_000 }),
    retryBufferBytes: readInteger(env, 'FERRY_GATEWAY_RETRY_BUFFER_BYTES', DEFAULT_RETRY_BUFFER_BYTES, { min: 0, max: 64 * 1024 * 1024 }),
    tokenExpiryMarginMs: readInteger(env, 'FERRY_GATEWAY_TOKEN_EXPIRY_MARGIN_MS', DEFAULT_TOKEN_EXPIRY_MARGIN_MS, { min: 0 }),
    tokenTtlWithoutExpiryMs: readInteger(env, 'FERRY_GATEWAY_TOKEN_DEFAULT_TTL_MS', DEFAULT_TOKEN_TTL_WITHOUT_EXPIRY_MS, { min: 0 }),
  });
}
