import { parseCommonConfig, type CommonConfig } from '../../shared/config/common.ts';
import { deepFreeze, type Env } from '../../shared/config/env.ts';

export type DispatcherConfig = {
  common: Readonly<CommonConfig>;
};

/** Parse the dispatcher service's settings. Throws `ConfigError` naming the first invalid variable. */
export function parseDispatcherConfig(env: Env): Readonly<DispatcherConfig> {
  return deepFreeze({ common: parseCommonConfig(env) });
}
