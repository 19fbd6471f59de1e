import { parseCommonConfig, type CommonConfig } from '../../shared/config/common.ts';
import { deepFreeze, type Env } from '../../shared/config/env.ts';

export type GatewayConfig = {
  common: Readonly<CommonConfig>;
};

/** Parse the gateway service's settings. Throws `ConfigError` naming the first invalid variable. */
export function parseGatewayConfig(env: Env): Readonly<GatewayConfig> {
  return deepFreeze({ common: parseCommonConfig(env) });
}
