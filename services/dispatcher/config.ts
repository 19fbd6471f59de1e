import { parseCommonConfig, type CommonConfig, type EgressPolicyConfig } from '../../shared/config/common.ts';
import { deepFreeze, readBoolean, readInteger, type Env } from '../../shared/config/env.ts';

/** Time added to a subscription's `timeoutMs` to get the consumer's ack wait, so a request times out before JetStream redelivers its event. */
export const DEFAULT_ACK_WAIT_MARGIN_MS = 5000;
/** Maximum size of a subscriptions or dead letters API request body. */
export const DEFAULT_API_BODY_LIMIT_BYTES = 64 * 1024;
/** Maximum number of dead letters that one list or redrive request reads. */
export const DEFAULT_DEADLETTER_LIST_LIMIT = 1000;

export type DispatcherConfig = {
  common: Readonly<CommonConfig>;
  /**
   * Egress policy for sinks. Loopback is allowed by default, and the functions
   * service's host is always allowed. Other restricted addresses follow the common egress settings.
   */
  sinkEgress: EgressPolicyConfig;
  ackWaitMarginMs: number;
  apiBodyLimitBytes: number;
  deadLetterListLimit: number;
};

/** Parse the dispatcher service's settings. Throws `ConfigError` naming the first invalid variable. */
export function parseDispatcherConfig(env: Env): Readonly<DispatcherConfig> {
  const common = parseCommonConfig(env);
  const functionsHost = new URL(common.internalUrls.functions).hostname;

  return deepFreeze({
    common,
    sinkEgress: {
      allowLoopback: readBoolean(env, 'FERRY_DISPATCHER_SINK_ALLOW_LOOPBACK', true),
      allowPrivate: common.egress.allowPrivate,
      allowLinkLocal: common.egress.allowLinkLocal,
      allowedHosts: [...new Set([...common.egress.allowedHosts, functionsHost])],
    },
    ackWaitMarginMs: readInteger(env, 'FERRY_DISPATCHER_ACK_WAIT_MARGIN_MS', DEFAULT_ACK_WAIT_MARGIN_MS, { min: 1000, max: 600_000 }),
    apiBodyLimitBytes: readInteger(env, 'FERRY_DISPATCHER_API_BODY_LIMIT_BYTES', DEFAULT_API_BODY_LIMIT_BYTES, { min: 1024 }),
    deadLetterListLimit: readInteger(env, 'FERRY_DISPATCHER_DEADLETTER_LIST_LIMIT', DEFAULT_DEADLETTER_LIST_LIMIT, { min: 1, max: 100_000 }),
  });
}
