import { parseCommonConfig, type CommonConfig } from '../../shared/config/common.ts';
import { deepFreeze, readInteger, type Env } from '../../shared/config/env.ts';
import { DAY_MS } from '../../shared/pki/certificates.ts';

/** Time limit of one spec fetch, from connect to the last byte, in milliseconds. */
export const DEFAULT_SPEC_FETCH_TIMEOUT_MS = 20_000;

/** Time limit of parsing one fetched YAML spec on its worker thread, in milliseconds. */
export const DEFAULT_SPEC_PARSE_TIMEOUT_MS = 30_000;

/** Largest spec that the registry fetches from a URL, in bytes (10 MiB). */
export const DEFAULT_SPEC_MAX_BYTES = 10 * 1024 * 1024;

/** Largest JSON body of the metadata routes, in bytes (16 MiB), because inline specs can be several MB. */
export const DEFAULT_METADATA_BODY_LIMIT_BYTES = 16 * 1024 * 1024;

/** Largest JSON body of the internal application routes, in bytes (64 KiB). */
export const DEFAULT_APPLICATION_BODY_LIMIT_BYTES = 64 * 1024;

/** Validity of client certificates made for `certificateGen`, in milliseconds (one year). */
export const DEFAULT_GENERATED_CERT_VALIDITY_MS = 365 * DAY_MS;

export type RegistryConfig = {
  common: Readonly<CommonConfig>;
  specFetchTimeoutMs: number;
  specParseTimeoutMs: number;
  specMaxBytes: number;
  metadataBodyLimitBytes: number;
  applicationBodyLimitBytes: number;
  generatedCertValidityMs: number;
};

/** Parse the registry service's settings. Throws `ConfigError` naming the first invalid variable. */
export function parseRegistryConfig(env: Env): Readonly<RegistryConfig> {
  return deepFreeze({
    common: parseCommonConfig(env),
    specFetchTimeoutMs: readInteger(env, 'FERRY_SPEC_FETCH_TIMEOUT_MS', DEFAULT_SPEC_FETCH_TIMEOUT_MS, { min: 100 }),
    specParseTimeoutMs: readInteger(env, 'FERRY_SPEC_PARSE_TIMEOUT_MS', DEFAULT_SPEC_PARSE_TIMEOUT_MS, { min: 100 }),
    specMaxBytes: readInteger(env, 'FERRY_SPEC_MAX_BYTES', DEFAULT_SPEC_MAX_BYTES, { min: 1024 }),
    metadataBodyLimitBytes: readInteger(env, 'FERRY_METADATA_BODY_LIMIT_BYTES', DEFAULT_METADATA_BODY_LIMIT_BYTES, { min: 1024 }),
    applicationBodyLimitBytes: readInteger(env, 'FERRY_APPLICATION_BODY_LIMIT_BYTES', DEFAULT_APPLICATION_BODY_LIMIT_BYTES, {
      min: 1024,
    }),
    generatedCertValidityMs: readInteger(env, 'FERRY_GENERATED_CERT_VALIDITY_MS', DEFAULT_GENERATED_CERT_VALIDITY_MS, { min: 60_000 }),
  });
}
