import { parseCommonConfig, type CommonConfig } from '../shared/config/common.ts';
import { readOptionalString, type Env } from '../shared/config/env.ts';

export type CliConfig = {
  common: Readonly<CommonConfig>;
  /** Admin token from `FERRY_ADMIN_TOKEN`; without it the CLI signs one with the local secret. */
  adminToken: string | undefined;
};

export function parseCliConfig(env: Env): CliConfig {
  return { common: parseCommonConfig(env), adminToken: readOptionalString(env, 'FERRY_ADMIN_TOKEN') };
}
