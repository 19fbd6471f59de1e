import { readFile } from 'node:fs/promises';
import type { RequestListener } from 'node:http';
import express, { type Express } from 'express';
import type { DestinationStream } from 'pino';
import type { CommonConfig } from '../config/common.ts';
import type { ServiceName } from '../config/services.ts';
import { NotFoundError } from '../errors/errors.ts';
import { createErrorHandler } from '../errors/http-handler.ts';
import { stripUntrustedForwardedClientCert } from '../http/client-identity.ts';
import { createHealthRouter, type ReadinessResult } from '../http/health.ts';
import { createRequestContext } from '../http/request-context.ts';
import { createExternalServer, createInternalServer, listen, type ServerTls } from '../http/server.ts';
import { GracefulShutdown } from '../http/shutdown.ts';
import { createLogger, type Logger } from '../logging/logger.ts';
import { createHttpMetrics, type HttpMetrics } from '../metrics/metrics.ts';
import { connectNats, type NatsHandle } from '../nats/connection.ts';
import { ensureNatsResources, probeJetStream, type NatsResources } from '../nats/resources.ts';

/** A readiness check returns undefined when healthy, or the reason it is not. */
export type ReadinessProbe = () => Promise<string | undefined> | string | undefined;

/** Everything a service's `main.ts` wires together: config, logger, metrics, NATS and shutdown. */
export type ServiceRuntime = {
  name: ServiceName;
  config: Readonly<CommonConfig>;
  log: Logger;
  metrics: HttpMetrics;
  nats: NatsHandle;
  resources: NatsResources;
  shutdown: GracefulShutdown;
  addReadinessProbe(name: string, probe: ReadinessProbe): void;
  readiness(): Promise<ReadinessResult>;
};

/** Options of every service's start function. Tests pass their own log sink and stop the service themselves. */
export type ServiceStartOptions = { logDestination?: DestinationStream; installSignalHandlers?: boolean };

/**
 * Start the parts every service shares: logger, metrics, NATS connection, Ferry's NATS resources and
 * graceful shutdown. Resources are ensured again after each reconnect, because a restarted
 * `nats-server` may have lost them.
 */
export async function startRuntime(
  name: ServiceName,
  config: Readonly<CommonConfig>,
  options: ServiceStartOptions = {},
): Promise<ServiceRuntime> {
  const log = createLogger(name, config.logLevel, options.logDestination);
  const metrics = createHttpMetrics(name);
  const shutdown = new GracefulShutdown(log, config.shutdownTimeoutMs);
  if (options.installSignalHandlers !== false) {
    shutdown.installSignalHandlers();
  }

  const settings = { ...config.stream, tokenTtlMs: config.tokenTtlMs };
  const nats = await connectNats({ url: config.natsUrl, name: `ferry-${name}`, log });
  const resources = await ensureNatsResources(nats.nc, settings, log);
  shutdown.addCleanup('nats', () => nats.nc.drain());

  let resourcesOk = true;
  nats.state.onReconnect(() => {
    resourcesOk = false;
    ensureNatsResources(nats.nc, settings, log).then(
      () => {
        resourcesOk = true;
      },
      (error: unknown) => log.error({ err: error }, 'cannot recreate NATS resources after reconnect'),
    );
  });

  const probes = new Map<string, ReadinessProbe>();
  probes.set('nats', () => (nats.state.connected ? undefined : 'not connected to NATS'));
  probes.set('jetstream', async () => (resourcesOk ? probeJetStream(resources.jsm) : 'NATS resources are being recreated'));

  return {
    name,
    config,
    log,
    metrics,
    nats,
    resources,
    shutdown,
    addReadinessProbe: (probeName, probe) => probes.set(probeName, probe),
    readiness: () => runProbes(probes, nats),
  };
}

async function runProbes(probes: Map<string, ReadinessProbe>, nats: NatsHandle): Promise<ReadinessResult> {
  const checks: ReadinessResult['checks'] = {};
  let ready = true;

  for (const [name, probe] of probes) {
    // Without a connection every NATS request would wait for its timeout, so skip them.
    const reason = name !== 'nats' && !nats.state.connected ? 'not connected to NATS' : await probe();
    checks[name] = reason === undefined ? { ok: true } : { ok: false, reason };
    ready &&= reason === undefined;
  }
  return { ready, checks };
}

/** Create an express app with the request context, `X-Forwarded-Client-Cert` stripping and, when asked, the health routes. */
export function createServiceApp(runtime: ServiceRuntime, options: { health: boolean }): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(createRequestContext(runtime.log, runtime.metrics));
  app.use((req, _res, next) => {
    stripUntrustedForwardedClientCert(req, runtime.config.trustForwardedClientCert);
    next();
  });
  if (options.health) {
    app.use(createHealthRouter(() => runtime.readiness(), runtime.metrics.registry));
  }
  return app;
}

/** Add the 404 fallback and the error handler. Call after every route is registered. */
export function finishServiceApp(runtime: ServiceRuntime, app: Express): void {
  app.use((req, _res, next) => {
    next(new NotFoundError(`no route for ${req.method} ${req.path}`));
  });
  app.use(createErrorHandler(runtime.log));
}

export async function loadServerTls(config: Readonly<CommonConfig>): Promise<ServerTls> {
  const [cert, key, ca] = await Promise.all([
    readFile(config.serverCertFile, 'utf8'),
    readFile(config.serverKeyFile, 'utf8'),
    readFile(config.caCertFile, 'utf8'),
  ]);
  return { cert, key, ca };
}

/**
 * Listen on the service's internal port and register the server for graceful shutdown. `app` is an
 * express app, or a lean listener that hands the routes it does not serve to one.
 */
export async function serveInternal(runtime: ServiceRuntime, app: Express | RequestListener, port: number): Promise<number> {
  const server = createInternalServer(app);
  const address = await listen(server, port, runtime.config.host);
  runtime.shutdown.addServer(server);
  runtime.log.info({ port: address.port, host: runtime.config.host }, 'internal HTTP listening');
  return address.port;
}

/** Listen on the service's external HTTPS port and register the server for graceful shutdown. `app` as for `serveInternal`. */
export async function serveExternal(runtime: ServiceRuntime, app: Express | RequestListener, port: number, tls: ServerTls): Promise<number> {
  const server = createExternalServer(app, tls);
  const address = await listen(server, port, runtime.config.host);
  runtime.shutdown.addServer(server);
  runtime.log.info({ port: address.port, host: runtime.config.host }, 'external HTTPS listening');
  return address.port;
}
