import { Router } from 'express';
import type { Registry } from 'prom-client';

/** Result of one readiness check. `reason` explains a failure to an operator. */
export type ReadinessResult = { ready: boolean; checks: Record<string, { ok: boolean; reason?: string }> };

export type ReadinessCheck = () => Promise<ReadinessResult>;

/** Create the `/healthz`, `/readyz` and `/metrics` routes of a service's internal port. */
export function createHealthRouter(readiness: ReadinessCheck, registry: Registry): Router {
  const router = Router();

  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  router.get('/readyz', async (_req, res) => {
    const result = await readiness();
    res.status(result.ready ? 200 : 503).json({ status: result.ready ? 'ready' : 'not ready', checks: result.checks });
  });

  router.get('/metrics', async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  });

  return router;
}
