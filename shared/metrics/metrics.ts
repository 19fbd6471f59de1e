import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Request duration buckets in seconds, from 1 ms to 10 s. */
export const HTTP_DURATION_BUCKETS_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export type HttpMetrics = {
  registry: Registry;
  requests: Counter<'method' | 'route' | 'status'>;
  duration: Histogram<'method' | 'route' | 'status'>;
};

/**
 * Create a service's metrics registry with the process metrics (`process_*`, `nodejs_*`) plus
 * `ferry_http_requests_total` and `ferry_http_request_duration_seconds` by route template and status.
 */
export function createHttpMetrics(service: string): HttpMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });

  const requests = new Counter({
    name: 'ferry_http_requests_total',
    help: 'HTTP requests completed, by method, route template and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'ferry_http_request_duration_seconds',
    help: 'HTTP request duration in seconds, from the first byte received to the last byte sent',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: HTTP_DURATION_BUCKETS_SECONDS,
    registers: [registry],
  });
  return { registry, requests, duration };
}
