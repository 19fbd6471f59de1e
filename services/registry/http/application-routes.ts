import { Router, type RequestHandler } from 'express';
import { InputError, NotFoundError } from '../../../shared/errors/errors.ts';
import type { ApplicationRegistry } from '../application-registry.ts';
import { MAX_APPLICATION_NAME_LENGTH } from '../domain/service-rules.ts';
import type { ServiceRegistry, SpecKind } from '../service-registry.ts';
import { parseJsonBody, readServiceId } from './request-guards.ts';

export type ApplicationRouteOptions = {
  applications: ApplicationRegistry;
  services: ServiceRegistry;
  /** Admin JWT check: `viewer` for reads, `admin` for writes. */
  requireRole: RequestHandler;
  bodyLimitBytes: number;
};

const APPLICATION_NAME_PATTERN = /^[a-z0-9-]+$/;

/** Read `{name}` from the path. A name that cannot be an application gets 404 before it reaches a KV key. */
function readApplicationName(raw: unknown): string {
  const name = String(raw);
  if (name.length > MAX_APPLICATION_NAME_LENGTH || !APPLICATION_NAME_PATTERN.test(name)) {
    throw new NotFoundError(`application '${name.slice(0, 100)}' not found`);
  }
  return name;
}

function readSpecKind(raw: unknown): SpecKind {
  if (raw === undefined || raw === 'api') {
    return 'api';
  }
  if (raw === 'events') {
    return 'events';
  }
  throw new InputError(`query parameter type must be api or events, got '${typeof raw === 'string' ? raw.slice(0, 100) : 'a list'}'`);
}

/** Create the internal `/v1/applications` routes: application admin and read access to services for workloads. */
export function createApplicationRouter(options: ApplicationRouteOptions): Router {
  const { applications, services } = options;
  const router = Router();
  router.use('/v1/applications', options.requireRole);

  router.post('/v1/applications', ...parseJsonBody(options.bodyLimitBytes), async (req, res) => {
    res.status(201).json(await applications.create(req.body));
  });

  router.get('/v1/applications', async (_req, res) => {
    res.json(await applications.list());
  });

  router.get('/v1/applications/:name', async (req, res) => {
    res.json(await applications.get(readApplicationName(req.params.name)));
  });

  router.delete('/v1/applications/:name', async (req, res) => {
    await applications.delete(readApplicationName(req.params.name));
    res.status(204).end();
  });

  router.get('/v1/applications/:name/services', async (req, res) => {
    const name = readApplicationName(req.params.name);
    await applications.get(name);
    res.json(await services.list(name));
  });

  router.get('/v1/applications/:name/services/:id', async (req, res) => {
    const name = readApplicationName(req.params.name);
    res.json(await services.get(name, readServiceId(req.params.id, name), { withSpecs: false }));
  });

  router.get('/v1/applications/:name/services/:id/spec', async (req, res) => {
    const name = readApplicationName(req.params.name);
    const spec = await services.readSpec(name, readServiceId(req.params.id, name), readSpecKind(req.query.type));
    const text = typeof spec.content === 'string' ? spec.content : JSON.stringify(spec.content);
    res.type(spec.contentType).send(text);
  });

  router.get('/v1/applications/:name/events', async (req, res) => {
    const name = readApplicationName(req.params.name);
    await applications.get(name);
    res.json(await services.catalog(name));
  });

  return router;
}
