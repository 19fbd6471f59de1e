import type { Logger } from 'pino';
import { UpstreamError } from '../../shared/errors/errors.ts';

/** A CloudEvent that a Function publishes. `id`, `source` and `specversion` are filled in when missing. */
export type PublishedEvent = { type: string; source?: string; id?: string; data?: unknown; datacontenttype?: string; [attribute: string]: unknown };

/** Context of one invocation, the second argument of a Function's `main`. */
export type FunctionContext = {
  functionName: string;
  log: Logger;
  /** A fetch bound to `<gateway>/<app>/<service>`: `path` is appended to that base. */
  gateway(app: string, service: string): (path: string, init?: RequestInit) => Promise<Response>;
  /** Send an in-platform event to the events service's `/publish`. Rejects unless the response is 2xx. */
  publish(event: PublishedEvent): Promise<void>;
};

export type ContextSettings = { gatewayUrl: string; eventsUrl: string; timeoutMs: number };

/** Create the context of one invocation. Outbound calls share the invocation's abort signal. */
export function createFunctionContext(functionName: string, log: Logger, settings: ContextSettings, signal: AbortSignal): FunctionContext {
  return {
    functionName,
    log,
    gateway(app, service) {
      const base = `${settings.gatewayUrl}/${encodeURIComponent(app)}/${encodeURIComponent(service)}`;
      return (path, init) => fetch(`${base}${path.startsWith('/') ? path : `/${path}`}`, { signal, ...init });
    },
    async publish(event) {
      const body = { specversion: '1.0', id: crypto.randomUUID(), source: functionName, ...event };
      const response = await fetch(`${settings.eventsUrl}/publish`, {
        method: 'POST',
        headers: { 'content-type': 'application/cloudevents+json' },
        body: JSON.stringify(body),
        signal,
      });
      if (!response.ok) {
        throw new UpstreamError(`events service responded with ${response.status} to the publish of '${event.type}': ${(await response.text()).slice(0, 200)}`);
      }
    },
  };
}
