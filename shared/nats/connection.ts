import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';

/** Delay between reconnect attempts. With no attempt limit, a service waits out any NATS outage. */
export const RECONNECT_TIME_WAIT_MS = 1000;

/** Tracks whether the connection is up, for `/readyz` and for fast 503 responses on hot paths. */
export type NatsConnectionState = {
  readonly connected: boolean;
  /** Register a callback that runs after every reconnect. */
  onReconnect(callback: () => void): void;
};

export type NatsHandle = { nc: NatsConnection; state: NatsConnectionState };

/**
 * Connect to NATS and keep reconnecting forever. The first connection is also retried, so a service
 * may start before NATS does. Status changes are logged.
 */
export async function connectNats(options: { url: string; name: string; log: Logger }): Promise<NatsHandle> {
  const { url, name, log } = options;
  const nc = await connect({
    servers: url,
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: RECONNECT_TIME_WAIT_MS,
    waitOnFirstConnect: true,
  });
  log.info({ server: nc.getServer() }, 'connected to NATS');

  let connected = true;
  const reconnectCallbacks: (() => void)[] = [];

  void (async () => {
    for await (const status of nc.status()) {
      switch (status.type) {
        case 'disconnect':
          connected = false;
          log.warn({ server: status.server }, 'disconnected from NATS, reconnecting');
          break;
        case 'reconnect':
          connected = true;
          log.info({ server: status.server }, 'reconnected to NATS');
          for (const callback of reconnectCallbacks) {
            callback();
          }
          break;
        case 'error':
          log.warn({ err: status.error }, 'NATS connection error');
          break;
        default:
          break;
      }
    }
  })();

  void nc.closed().then((error) => {
    connected = false;
    if (error) {
      log.error({ err: error }, 'NATS connection closed with an error');
    }
  });

  return {
    nc,
    state: {
      get connected() {
        return connected && !nc.isClosed();
      },
      onReconnect(callback) {
        reconnectCallbacks.push(callback);
      },
    },
  };
}
