import { parseCommonConfig, type CommonConfig } from '../../shared/config/common.ts';
import { deepFreeze, type Env } from '../../shared/config/env.ts';

export type EventsConfig = {
  common: Readonly<CommonConfig>;
};

/** Parse the events service's settings. Throws `ConfigError` naming the first invalid variable. */
export function parseEventsConfig(env: Env): Readonly<EventsConfig> {
  return deepFreeze({ common: parseCommonConfig(env) });
}
