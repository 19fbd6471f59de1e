import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request, RequestHandler } from 'express';
import type { Logger } from 'pino';
import type { HttpMetrics } from '../metrics/metrics.ts';

/** Incoming request ids longer than this, or with other characters, are replaced by a fresh UUID. */
const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

declare module 'node:http' {
  interface IncomingMessage {
    /** Request id from `X-Request-Id`, or a generated UUID. */
    id?: string;
    /** Logger bound to this request's id. */
    log?: Logger;
  }
}

/** Return the request's id, taking a well-formed `X-Request-Id` from the caller. */
export function resolveRequestId(req: IncomingMessage): string {
  const header = req.headers['x-request-id'];
  return typeof header === 'string' && REQUEST_ID_PATTERN.test(header) ? header : randomUUID();
}

/** Label for metrics: the matched route template, so ids in paths do not explode label cardinality. */
export function routeTemplate(req: Request): string {
  const route = (req as { route?: { path?: unknown } }).route;
  if (route && typeof route.path === 'string') {
    return `${req.baseUrl}${route.path}`;
  }
  return 'unmatched';
}

/**
 * Observe one finished request: count it, time it and log it. Shared by the express middleware and
 * by lean handlers on hot paths that do not use express.
 */
export function observeRequest(
  metrics: HttpMetrics,
  req: IncomingMessage,
  res: ServerResponse,
  route: string,
  startedAt: bigint,
): void {
  const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
  const labels = { method: req.method ?? 'GET', route, status: String(res.statusCode) };
  metrics.requests.inc(labels);
  metrics.duration.observe(labels, seconds);
  req.log?.debug({ method: req.method, route, status: res.statusCode, durationMs: Math.round(seconds * 1000) }, 'request finished');
}

/** Express middleware: request id, `X-Request-Id` response header, child logger and metrics. */
export function createRequestContext(log: Logger, metrics: HttpMetrics): RequestHandler {
  return (req, res, next) => {
    const startedAt = process.hrtime.bigint();
    req.id = resolveRequestId(req);
    req.log = log.child({ reqId: req.id });
    res.setHeader('x-request-id', req.id);
    res.once('finish', () => observeRequest(metrics, req, res, routeTemplate(req), startedAt));
    next();
  };
}
