import express, { Router, type Request } from 'express';
import { requireRoleForMethod, type AdminTokenVerifier } from '../../shared/auth/admin-auth.ts';
import type { EgressPolicyConfig } from '../../shared/config/common.ts';
import { InputError, UnavailableError, UnsupportedMediaTypeError } from '../../shared/errors/errors.ts';
import type { KvCache } from '../../shared/nats/kv-cache.ts';
import type { ConsumerReconciler, ConsumerState } from './consumer-reconciler.ts';
import type { DeliveryMetrics } from './delivery-metrics.ts';
import { assertSinkAllowed } from './sink-url.ts';
import { toSubscription, type Subscription } from './subscription.ts';
import { DNS_LABEL_PATTERN, type SubscriptionValidator } from './subscription-schema.ts';
import type { SubscriptionStore } from './subscription-store.ts';

export type SubscriptionRouteDependencies = {
  verify: AdminTokenVerifier;
  validate: SubscriptionValidator;
  store: SubscriptionStore;
  cache: KvCache<Subscription>;
  reconciler: ConsumerReconciler;
  metrics: DeliveryMetrics;
  sinkEgress: EgressPolicyConfig;
  bodyLimitBytes: number;
};

export type SubscriptionStatus = {
  ready: boolean;
  reason?: string;
  consumers: ConsumerState[];
  delivered: number;
  failed: number;
  deadLettered: number;
  lastError?: { message: string; status?: number; eventId: string; at: string };
};

const NAME = new RegExp(DNS_LABEL_PATTERN);

/** Parse JSON bodies up to the limit, and reject other media types with 415. */
export function createJsonBody(limitBytes: number): express.RequestHandler[] {
  return [
    (req, _res, next) => {
      const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
      if (hasBody && !req.is('application/json')) {
        throw new UnsupportedMediaTypeError(`Content-Type must be application/json, got '${req.headers['content-type'] ?? ''}'`);
      }
      next();
    },
    express.json({ limit: limitBytes, strict: false }),
  ];
}

export function readNameParameter(req: Request, parameter = 'name'): string {
  const name = req.params[parameter];
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new InputError(`subscription name must be a DNS-1123 label, got '${String(name)}'`);
  }
  return name;
}

/** Routes `/v1/subscriptions[/{name}]`. Reading needs the `viewer` role, writing `admin`. */
export function createSubscriptionRoutes(deps: SubscriptionRouteDependencies): Router {
  const router = Router();
  router.use('/v1/subscriptions', requireRoleForMethod(deps.verify), ...createJsonBody(deps.bodyLimitBytes));

  const withStatus = async (subscription: Subscription): Promise<Subscription & { status: SubscriptionStatus }> => ({
    ...subscription,
    status: await describeStatus(deps, subscription),
  });

  router.post('/v1/subscriptions', async (req, res) => {
    const input = deps.validate(req.body);
    await assertSinkAllowed(input.sink, deps.sinkEgress);
    const subscription = toSubscription(input, new Date());

    await deps.store.create(subscription);
    await applyConsumers(deps, subscription.name, subscription);
    req.log?.info({ subscription: subscription.name, sink: subscription.sink, types: subscription.types }, 'subscription created');
    res.status(201).json(await withStatus(subscription));
  });

  router.get('/v1/subscriptions', (_req, res) => {
    res.json({ subscriptions: [...deps.cache.values()].sort((a, b) => a.name.localeCompare(b.name)) });
  });

  router.get('/v1/subscriptions/:name', async (req, res) => {
    const { subscription } = await deps.store.get(readNameParameter(req));
    res.json(await withStatus(subscription));
  });

  router.put('/v1/subscriptions/:name', async (req, res) => {
    const name = readNameParameter(req);
    const body: unknown = req.body;
    if (body !== null && typeof body === 'object' && !Array.isArray(body) && !('name' in body)) {
      (body as Record<string, unknown>).name = name;
    }
    const input = deps.validate(body);
    if (input.name !== name) {
      throw new InputError(`\`name\` must match the path, expected '${name}', got '${input.name}'`);
    }
    await assertSinkAllowed(input.sink, deps.sinkEgress);

    const stored = await deps.store.get(name);
    const subscription = toSubscription(input, new Date(), stored.subscription);
    await deps.store.update(subscription, stored.revision);
    await applyConsumers(deps, name, subscription);
    req.log?.info({ subscription: name, sink: subscription.sink, types: subscription.types }, 'subscription updated');
    res.json(await withStatus(subscription));
  });

  router.delete('/v1/subscriptions/:name', async (req, res) => {
    const name = readNameParameter(req);
    await deps.store.delete(name);
    await applyConsumers(deps, name, undefined);
    req.log?.info({ subscription: name }, 'subscription deleted');
    res.status(204).end();
  });

  return router;
}

/** Create, update or delete the subscription's consumers before responding, so events stored after the response are delivered. */
async function applyConsumers(deps: SubscriptionRouteDependencies, name: string, subscription: Subscription | undefined): Promise<void> {
  try {
    await deps.reconciler.reconcile(name, subscription);
  } catch (error) {
    throw new UnavailableError(`subscription '${name}' is stored but its consumers could not be changed. The dispatcher applies it again on the next change or reconnect`, { cause: error });
  }
}

async function describeStatus(deps: SubscriptionRouteDependencies, subscription: Subscription): Promise<SubscriptionStatus> {
  const counts = deps.metrics.countsOf(subscription.name);
  const status: SubscriptionStatus = {
    ready: false,
    consumers: [],
    delivered: counts.delivered,
    failed: counts.failed,
    deadLettered: counts.deadLettered,
  };
  if (counts.lastError !== undefined) {
    status.lastError = counts.lastError;
  }

  try {
    status.consumers = await deps.reconciler.describeConsumers(subscription);
  } catch (error) {
    status.reason = `cannot read the consumers: ${error instanceof Error ? error.message : String(error)}`;
    return status;
  }
  const missing = status.consumers.filter((consumer) => !consumer.exists);
  if (missing.length > 0) {
    status.reason = `consumers not created yet: ${missing.map((consumer) => consumer.type).join(', ')}`;
  } else if (!deps.reconciler.isRunning(subscription.name)) {
    status.reason = 'this replica has not started delivering yet';
  } else {
    status.ready = true;
  }
  return status;
}
