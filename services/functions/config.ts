import path from 'node:path';
import { parseCommonConfig, type CommonConfig } from '../../shared/config/common.ts';
import { deepFreeze, readInteger, readOptionalString, readString, type Env } from '../../shared/config/env.ts';

/** Time a Function's `main` may run before the request fails with 500. */
export const DEFAULT_FUNCTION_TIMEOUT_MS = 30_000;
/** Maximum size of an event posted to a Function. */
export const DEFAULT_FUNCTION_BODY_LIMIT_BYTES = 1024 * 1024;
/** Delay between attempts to register the Functions' subscriptions while the dispatcher is unreachable. */
export const DEFAULT_REGISTRATION_RETRY_MS = 2000;

export type FunctionsConfig = {
  common: Readonly<CommonConfig>;
  /** Folder that contains one sub-folder per Function. */
  functionsDir: string;
  timeoutMs: number;
  bodyLimitBytes: number;
  registrationRetryMs: number;
  /** Admin token for the dispatcher API. Without one, a token is signed with the admin JWT secret. */
  dispatcherToken: string | undefined;
};

/** Parse the functions service's settings. Throws `ConfigError` naming the first invalid variable. */
export function parseFunctionsConfig(env: Env): Readonly<FunctionsConfig> {
  return deepFreeze({
    common: parseCommonConfig(env),
    functionsDir: path.resolve(readString(env, 'FERRY_FUNCTIONS_DIR', 'functions')),
    timeoutMs: readInteger(env, 'FERRY_FUNCTIONS_TIMEOUT_MS', DEFAULT_FUNCTION_TIMEOUT_MS, { min: 1, max: 600_000 }),
    bodyLimitBytes: readInteger(env, 'FERRY_FUNCTIONS_BODY_LIMIT_BYTES', DEFAULT_FUNCTION_BODY_LIMIT_BYTES, { min: 1024 }),
    registrationRetryMs: readInteger(env, 'FERRY_FUNCTIONS_REGISTRATION_RETRY_MS', DEFAULT_REGISTRATION_RETRY_MS, { min: 100 }),
    dispatcherToken: readOptionalString(env, 'FERRY_FUNCTIONS_DISPATCHER_TOKEN'),
  });
}
