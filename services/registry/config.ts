import { parseCommonConfig, type CommonConfig } from '../../shared/config/common.ts';
import { deepFreeze, type Env } from '../../shared/config/env.ts';

export type RegistryConfig = {
  common: Readonly<CommonConfig>;
};

/** Parse the registry service's settings. Throws `ConfigError` naming the first invalid variable. */
export function parseRegistryConfig(env: Env): Readonly<RegistryConfig> {
  return deepFreeze({ common: parseCommonConfig(env) });
}
