import { parseCommonConfig, type CommonConfig } from '../../shared/config/common.ts';
import { deepFreeze, type Env } from '../../shared/config/env.ts';

export type FunctionsConfig = {
  common: Readonly<CommonConfig>;
};

/** Parse the functions service's settings. Throws `ConfigError` naming the first invalid variable. */
export function parseFunctionsConfig(env: Env): Readonly<FunctionsConfig> {
  return deepFreeze({ common: parseCommonConfig(env) });
}
