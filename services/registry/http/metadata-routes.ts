import { Router, type RequestHandler } from 'express';
import type { ServiceRegistry } from '../service-registry.ts';
import { parseJsonBody, readServiceId } from './request-guards.ts';

export type MetadataRouteOptions = {
  registry: ServiceRegistry;
  /** mTLS check: the certificate's CN must be `{app}`, not revoked, and the application must exist. */
  requireIdentity: RequestHandler;
  bodyLimitBytes: number;
};

/** Create the Kyma-compatible `/{app}/v1/metadata/services` routes of the external listener. */
export function createMetadataRouter(options: MetadataRouteOptions): Router {
  const { registry, requireIdentity } = options;
  const router = Router();
  const body = parseJsonBody(options.bodyLimitBytes);
  const collection = '/:app/v1/metadata/services';
  const item = '/:app/v1/metadata/services/:id';

  // The identity check runs before the body is read, so unauthenticated callers cannot make the service buffer large bodies.
  router.post(collection, requireIdentity, ...body, async (req, res) => {
    const id = await registry.create(String(req.params.app), req.body);
    res.status(200).json({ id });
  });

  router.get(collection, requireIdentity, async (req, res) => {
    res.json(await registry.list(String(req.params.app)));
  });

  router.get(item, requireIdentity, async (req, res) => {
    const app = String(req.params.app);
    res.json(await registry.get(app, readServiceId(req.params.id, app), { withSpecs: true }));
  });

  router.put(item, requireIdentity, ...body, async (req, res) => {
    const app = String(req.params.app);
    const id = readServiceId(req.params.id, app);
    await registry.update(app, id, req.body);
    res.status(200).json({ id });
  });

  router.delete(item, requireIdentity, async (req, res) => {
    const app = String(req.params.app);
    await registry.delete(app, readServiceId(req.params.id, app));
    res.status(204).end();
  });

  return router;
}
