import type { IncomingMessage } from 'node:http';
import { createAdminTokenVerifier, readBearerToken } from '../../shared/auth/admin-auth.ts';
import { startIdentityDirectory } from '../../shared/nats/identity-directory.ts';
import { KvCache } from '../../shared/nats/kv-cache.ts';
import { KV_BUCKETS } from '../../shared/nats/names.ts';
import {
  createServiceApp,
  finishServiceApp,
  loadServerTls,
  serveExternal,
  serveInternal,
  startRuntime,
  type ServiceRuntime,
  type ServiceStartOptions,
} from '../../shared/service/runtime.ts';
import { createEventStore } from './adapters/event-store.ts';
import type { EventsConfig } from './config.ts';
import { toSubscriptionSummary, type SubscriptionSummary } from './domain/events-info.ts';
import { createExternalIngress, createInternalIngress } from './http/ingress-handler.ts';
import { createSubscribedRouter } from './http/subscribed-router.ts';

/** A running events service. */
export type EventsService = {
  runtime: ServiceRuntime;
  internalPort: number;
  externalPort: number;
  /** Stop listening, finish running requests and close the NATS connection. */
  stop(): Promise<void>;
};

async function createWorkloadAuthorizer(config: Readonly<EventsConfig>): Promise<((req: IncomingMessage) => Promise<void>) | undefined> {
  if (!config.common.requireWorkloadAuth) {
    return undefined;
  }
  const verify = await createAdminTokenVerifier(config.common.adminAuth);
  return async (req) => {
    await verify(readBearerToken(req.headers.authorization));
  };
}

/** Wire the events service: NATS, caches, the lean event routes with express behind them, and both listeners. */
export async function startEventsService(config: Readonly<EventsConfig>, options: ServiceStartOptions = {}): Promise<EventsService> {
  const runtime = await startRuntime('events', config.common, options);
  const { log, nats, resources, metrics } = runtime;

  const directory = await startIdentityDirectory(resources, nats.state, log);
  runtime.shutdown.addCleanup('identity directory', () => directory.stop());
  const subscriptions = new KvCache<SubscriptionSummary>({
    kv: resources.kv.subscriptions,
    bucket: KV_BUCKETS.subscriptions,
    decode: (entry) => toSubscriptionSummary(entry.json<unknown>()),
    log,
    connection: nats.state,
  });
  await subscriptions.start();
  runtime.shutdown.addCleanup('subscriptions cache', () => subscriptions.stop());
  runtime.addReadinessProbe('caches', () => (directory.ready && subscriptions.ready ? undefined : 'KV caches are loading'));

  const tls = await loadServerTls(config.common);
  const identityOptions = { trustForwardedClientCert: config.common.trustForwardedClientCert, caCertificatePem: tls.ca };
  const store = createEventStore(
    resources.js,
    nats.nc,
    nats.state,
    { attemptTimeoutMs: config.publishAttemptTimeoutMs, deadlineMs: config.publishDeadlineMs },
    log,
  );
  const ingress = { log, metrics, store, maxBodyBytes: config.maxBodyBytes, trustForwardedClientCert: config.common.trustForwardedClientCert };

  const internalApp = createServiceApp(runtime, { health: true });
  finishServiceApp(runtime, internalApp);
  const internal = createInternalIngress({ ...ingress, authorizeWorkload: await createWorkloadAuthorizer(config) }, internalApp);

  const externalApp = createServiceApp(runtime, { health: false });
  externalApp.use(createSubscribedRouter(identityOptions, directory, subscriptions));
  finishServiceApp(runtime, externalApp);
  const external = createExternalIngress({ ...ingress, identityOptions, directory }, externalApp);

  const internalPort = await serveInternal(runtime, internal, config.common.ports.events.internal);
  const externalPort = await serveExternal(runtime, external, config.common.ports.events.external ?? 0, tls);
  return { runtime, internalPort, externalPort, stop: () => runtime.shutdown.stop() };
}
