import pino, { type Logger, type DestinationStream } from 'pino';

/**
 * Paths that pino replaces with `[redacted]`. Covers headers, token and credential fields at the top
 * level and one or two levels down, which is where Ferry's log calls put them.
 */
export const REDACTED_PATHS: readonly string[] = [
  'authorization',
  'token',
  'password',
  'secret',
  'clientSecret',
  'privateKey',
  'key',
  'csrfToken',
  'accessToken',
  '*.authorization',
  '*.Authorization',
  '*["access-token"]',
  '*["x-csrf-token"]',
  '*.cookie',
  '*["set-cookie"]',
  '*.token',
  '*.password',
  '*.secret',
  '*.clientSecret',
  '*.client_secret',
  '*.privateKey',
  '*.key',
  '*.csrfToken',
  '*.accessToken',
  '*.access_token',
  '*.headers.authorization',
  '*.headers["access-token"]',
  '*.headers.cookie',
  '*.*.password',
  '*.*.clientSecret',
  '*.*.privateKey',
];

export type { Logger };

/** Create the root logger of a service. Every line carries `service`. */
export function createLogger(service: string, level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service },
    redact: { paths: [...REDACTED_PATHS], censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}
