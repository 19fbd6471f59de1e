import { parseCommonConfig, type CommonConfig } from '../../shared/config/common.ts';
import { deepFreeze, readInteger, type Env } from '../../shared/config/env.ts';
import { ConfigError } from '../../shared/errors/errors.ts';

/** Largest accepted request body when `FERRY_EVENTS_MAX_BODY_BYTES` is not set: 1 MiB. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/** How long one publish waits for its PubAck when `FERRY_EVENTS_PUBLISH_TIMEOUT_MS` is not set. */
export const DEFAULT_PUBLISH_ATTEMPT_TIMEOUT_MS = 2000;
/** How long all publish attempts for one event may take when `FERRY_EVENTS_PUBLISH_DEADLINE_MS` is not set. */
export const DEFAULT_PUBLISH_DEADLINE_MS = 5000;

export type EventsConfig = {
  common: Readonly<CommonConfig>;
  /** Largest accepted request body in bytes; a larger one gets 413. */
  maxBodyBytes: number;
  /** Milliseconds one publish waits for its PubAck before it is retried with the same message id. */
  publishAttemptTimeoutMs: number;
  /** Milliseconds all attempts for one event may take together before the client gets 503. */
  publishDeadlineMs: number;
};

/** Parse the events service's settings. Throws `ConfigError` naming the first invalid variable. */
export function parseEventsConfig(env: Env): Readonly<EventsConfig> {
  const common = parseCommonConfig(env);
  const publishDeadlineMs = readInteger(env, 'FERRY_EVENTS_PUBLISH_DEADLINE_MS', DEFAULT_PUBLISH_DEADLINE_MS, { min: 10, max: 120_000 });
  // A retry after the duplicate window has passed would store the event a second time.
  if (publishDeadlineMs >= common.stream.duplicateWindowMs) {
    throw new ConfigError(
      `FERRY_EVENTS_PUBLISH_DEADLINE_MS (${publishDeadlineMs}) must be shorter than FERRY_DUPLICATE_WINDOW_MS (${common.stream.duplicateWindowMs})`,
    );
  }

  return deepFreeze({
    common,
    maxBodyBytes: readInteger(env, 'FERRY_EVENTS_MAX_BODY_BYTES', DEFAULT_MAX_BODY_BYTES, { min: 1, max: 64 * 1024 * 1024 }),
    publishAttemptTimeoutMs: readInteger(env, 'FERRY_EVENTS_PUBLISH_TIMEOUT_MS', DEFAULT_PUBLISH_ATTEMPT_TIMEOUT_MS, { min: 10, max: 60_000 }),
    publishDeadlineMs,
  });
}
