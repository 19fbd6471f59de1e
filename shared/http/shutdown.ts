import type http from 'node:http';
import type { Logger } from 'pino';

/** How often a closing server's idle keep-alive connections are closed while requests finish. */
const IDLE_SWEEP_INTERVAL_MS = 100;

type Cleanup = { name: string; run: () => Promise<void> | void };

/**
 * Stops a service in order: stop accepting connections, let in-flight requests finish (up to the
 * timeout, then cut the remaining connections), then run the cleanups in reverse order of
 * registration. The NATS drain is registered first, so it runs last.
 */
export class GracefulShutdown {
  private readonly servers: http.Server[] = [];
  private readonly cleanups: Cleanup[] = [];
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly log: Logger,
    private readonly timeoutMs: number,
  ) {}

  addServer(server: http.Server): void {
    this.servers.push(server);
  }

  addCleanup(name: string, run: Cleanup['run']): void {
    this.cleanups.push({ name, run });
  }

  /** Stop everything once. Later calls return the same promise. */
  stop(): Promise<void> {
    this.stopping ??= this.runStop();
    return this.stopping;
  }

  /** Exit the process with status 0 after a graceful stop on SIGTERM or SIGINT. */
  installSignalHandlers(): void {
    const onSignal = (signal: NodeJS.Signals): void => {
      this.log.info({ signal }, 'shutdown requested');
      this.stop().then(
        () => process.exit(0),
        (error: unknown) => {
          this.log.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  }

  private async runStop(): Promise<void> {
    await Promise.all(this.servers.map((server) => this.closeServer(server)));

    for (const cleanup of [...this.cleanups].reverse()) {
      try {
        await cleanup.run();
      } catch (error) {
        this.log.warn({ err: error, cleanup: cleanup.name }, 'cleanup failed during shutdown');
      }
    }
    this.log.info('stopped');
  }

  private closeServer(server: http.Server): Promise<void> {
    if (!server.listening) {
      return Promise.resolve();
    }

    return new Promise((resolve) => {
      const sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_INTERVAL_MS);
      const deadline = setTimeout(() => {
        this.log.warn({ timeoutMs: this.timeoutMs }, 'requests still running at the shutdown deadline, closing their connections');
        server.closeAllConnections();
      }, this.timeoutMs);

      server.close(() => {
        clearInterval(sweep);
        clearTimeout(deadline);
        resolve();
      });
      server.closeIdleConnections();
    });
  }
}
