import { parseCommonConfig, type CommonConfig } from '../../shared/config/common.ts';
import { deepFreeze, type Env } from '../../shared/config/env.ts';

export type ConnectorConfig = {
  common: Readonly<CommonConfig>;
};

/** Parse the connector service's settings. Throws `ConfigError` naming the first invalid variable. */
export function parseConnectorConfig(env: Env): Readonly<ConnectorConfig> {
  return deepFreeze({ common: parseCommonConfig(env) });
}
