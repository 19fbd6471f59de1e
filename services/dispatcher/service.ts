import { createAdminTokenVerifier } from '../../shared/auth/admin-auth.ts';
import { Kvm } from '@nats-io/kv';
import { KvCache } from '../../shared/nats/kv-cache.ts';
import { KV_BUCKETS } from '../../shared/nats/names.ts';
import { createServiceApp, finishServiceApp, serveInternal, startRuntime, type ServiceRuntime,
  type ServiceStartOptions } from '../../shared/service/runtime.ts';
import type { DispatcherConfig } from './config.ts';
import { ConsumerReconciler } from './consumer-reconciler.ts';
import { createDeadLetterRoutes } from './deadletter-routes.ts';
import { DeadLetterStore } from './deadletter-store.ts';
import { DeliveryMetrics } from './delivery-metrics.ts';
import { createSinkClient } from './sink-client.ts';
import type { Subscription } from './subscription.ts';
import { createSubscriptionRoutes } from './subscription-routes.ts';
import { createSubscriptionValidator } from './subscription-schema.ts';
import { SubscriptionStore } from './subscription-store.ts';
import { STATUS_BUCKET, StatusStore } from './status-store.ts';

export type DispatcherService = {
  runtime: ServiceRuntime;
  internalPort: number;
  stop(): Promise<void>;
};

function decodeSubscription(entry: { json<T>(): T }): Subscription | undefined {
  const value = entry.json<Partial<Subscription>>();
  const valid = typeof value.name === 'string' && typeof value.sink === 'string' && Array.isArray(value.types) && value.delivery !== undefined && value.config !== undefined;
  return valid ? (value as Subscription) : undefined;
}

/**
 * Start the dispatcher: the subscriptions and dead letters API, and one worker per consumer that
 * delivers stored events to the sinks. Every replica watches the subscriptions bucket, so a
 * subscription created through any replica is delivered by all of them.
 */
export async function startDispatcherService(
  config: Readonly<DispatcherConfig>,
  options: ServiceStartOptions = {},
): Promise<DispatcherService> {
  const runtime = await startRuntime('dispatcher', config.common, options);
  const { js, jsm, kv } = runtime.resources;
  const log = runtime.log;

  const verify = await createAdminTokenVerifier(config.common.adminAuth);
  const sink = createSinkClient(config.sinkEgress);
  const metrics = new DeliveryMetrics(runtime.metrics.registry);
  const deadLetters = new DeadLetterStore(js, jsm);
  const store = new SubscriptionStore(kv.subscriptions);
  const createStatusBucket = () => new Kvm(js).create(STATUS_BUCKET, { history: 1, replicas: config.common.stream.replicas });
  const status = new StatusStore(await createStatusBucket(), metrics, log);
  status.start();
  const reconciler = new ConsumerReconciler({ js, jsm, sink, deadLetters, metrics, log, ackWaitMarginMs: config.ackWaitMarginMs });

  const cache = new KvCache<Subscription>({
    kv: kv.subscriptions,
    bucket: KV_BUCKETS.subscriptions,
    decode: decodeSubscription,
    log,
    connection: runtime.nats.state,
  });
  // Failures are logged by the reconciler, and the next change or reconnect applies the subscription again.
  cache.onChange((name, subscription) => void reconciler.reconcile(name, subscription).catch(() => undefined));
  await cache.start();
  runtime.shutdown.addCleanup('sink client', () => sink.close());
  runtime.shutdown.addCleanup('delivery counts', () => status.stop());
  runtime.shutdown.addCleanup('subscriptions watch', () => cache.stop());
  runtime.shutdown.addCleanup('delivery workers', () => reconciler.stop());

  const reconcileAll = async (): Promise<void> => {
    await createStatusBucket().catch((error: unknown) => log.warn({ err: error, bucket: STATUS_BUCKET }, 'cannot create the delivery counts bucket'));
    await Promise.allSettled([...cache.values()].map((subscription) => reconciler.reconcile(subscription.name, subscription)));
    await reconciler.removeOrphans(cache.values());
  };
  await reconcileAll();
  // A restarted nats-server without its store has lost the consumers, so create them again.
  runtime.nats.state.onReconnect(() => {
    reconcileAll().catch((error: unknown) => log.warn({ err: error }, 'cannot reconcile consumers after reconnect'));
  });
  runtime.addReadinessProbe('subscriptions', () => (cache.ready ? undefined : 'subscriptions are loading'));

  const bodyLimitBytes = config.apiBodyLimitBytes;
  const app = createServiceApp(runtime, { health: true });
  app.use(
    createSubscriptionRoutes({
      verify,
      validate: createSubscriptionValidator(),
      store,
      cache,
      reconciler,
      status,
      sinkEgress: config.sinkEgress,
      bodyLimitBytes,
    }),
  );
  app.use(createDeadLetterRoutes({ verify, deadLetters, store, sink, metrics, log, listLimit: config.deadLetterListLimit, bodyLimitBytes }));
  finishServiceApp(runtime, app);
  const internalPort = await serveInternal(runtime, app, config.common.ports.dispatcher.internal);

  return { runtime, internalPort, stop: () => runtime.shutdown.stop() };
}
