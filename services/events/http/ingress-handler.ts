/**
 * The event routes, served by a lean `node:http` handler instead of express because they are the hot
 * path: express routing and middleware cost too much throughput here (see docs/benchmarks.md). The
 * handler still uses the shared identity checks, error mapping, request ids and metrics. Every other
 * request goes to the express app given as `fallback`.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { toHttpFailure } from '../../../shared/errors/http-handler.ts';
import { authenticateApplication, stripUntrustedForwardedClientCert, type IdentityDirectory, type IdentityOptions } from '../../../shared/http/client-identity.ts';
import { observeRequest, resolveRequestId } from '../../../shared/http/request-context.ts';
import type { HttpMetrics } from '../../../shared/metrics/metrics.ts';
import type { EventStore } from '../adapters/event-store.ts';
import { createEventMessage, type EventMessage } from '../domain/event-message.ts';
import { ContentMode, detectContentMode, parseHttpEvents } from '../domain/http-binding.ts';
import { parseLegacyEvent, LegacyValidationError, LegacyProblem, LegacyField } from '../domain/legacy-event.ts';
import { InvalidEventError } from '../domain/invalid-event-error.ts';
import { withTraceContext, type TraceHeaders } from '../domain/trace-context.ts';
import { createLegacySuccess, toLegacyFailure } from './legacy-response.ts';
import { readBody } from './read-body.ts';

/** Route templates, used as the `route` metrics label. */
export const EventRoute = {
  CloudEvents: '/:app/events',
  CloudEventsV2: '/:app/v2/events',
  Legacy: '/:app/v1/events',
  Publish: '/publish',
} as const;
export type EventRoute = (typeof EventRoute)[keyof typeof EventRoute];

/** Application names are DNS-1123 labels, so a path segment of any other shape is no application. */
const APPLICATION_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

const SUFFIX_ROUTES: ReadonlyMap<string, EventRoute> = new Map([
  ['/events', EventRoute.CloudEvents],
  ['/v2/events', EventRoute.CloudEventsV2],
  ['/v1/events', EventRoute.Legacy],
]);

export type IngressDependencies = {
  log: Logger;
  metrics: HttpMetrics;
  store: EventStore;
  /** Largest accepted request body, in bytes. */
  maxBodyBytes: number;
  trustForwardedClientCert: boolean;
};

export type ExternalIngressDependencies = IngressDependencies & {
  identityOptions: IdentityOptions;
  directory: IdentityDirectory;
};

export type InternalIngressDependencies = IngressDependencies & {
  /** Checks the caller of `/publish`, when workload authentication is switched on. Throws to reject. */
  authorizeWorkload: ((req: IncomingMessage) => Promise<void>) | undefined;
};

/** Find the event route of an external request: `POST /{app}/events`, `/{app}/v2/events` or `/{app}/v1/events`. */
export function matchExternalRoute(method: string | undefined, url: string | undefined): { route: EventRoute; application: string } | undefined {
  if (method !== 'POST' || url === undefined || url.charCodeAt(0) !== 0x2f) {
    return undefined;
  }
  const query = url.indexOf('?');
  const path = query === -1 ? url : url.slice(0, query);
  const slash = path.indexOf('/', 1);
  if (slash === -1) {
    return undefined;
  }

  const route = SUFFIX_ROUTES.get(path.slice(slash));
  const application = path.slice(1, slash);
  return route !== undefined && APPLICATION_NAME.test(application) ? { route, application } : undefined;
}

function readTraceHeaders(req: IncomingMessage): TraceHeaders {
  const { traceparent, tracestate } = req.headers;
  return { traceparent: typeof traceparent === 'string' ? traceparent : undefined, tracestate: typeof tracestate === 'string' ? tracestate : undefined };
}

/**
 * Start the request context the express middleware would give: id, response header, logger and
 * metrics. A child logger costs about as much as validating an event, so a request gets one only
 * when debug logging is on, because then every request writes a line. Failures get theirs from `requestLog`.
 */
function beginRequest(deps: IngressDependencies, req: IncomingMessage, res: ServerResponse, route: EventRoute): void {
  const startedAt = process.hrtime.bigint();
  req.id = resolveRequestId(req);
  req.log = deps.log.isLevelEnabled('debug') ? deps.log.child({ reqId: req.id }) : deps.log;
  res.setHeader('x-request-id', req.id);
  res.once('finish', () => observeRequest(deps.metrics, req, res, route, startedAt));
  stripUntrustedForwardedClientCert(req, deps.trustForwardedClientCert);
}

function sendJson(req: IncomingMessage, res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  // A request whose body was not read to the end leaves the connection in an unknown state.
  if (!req.complete) {
    res.setHeader('connection', 'close');
  }
  const json = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(json) });
  res.end(json);
}

/** Return the request's logger, bound to its id. */
function requestLog(deps: IngressDependencies, req: IncomingMessage): Logger {
  return req.log === undefined || req.log === deps.log ? deps.log.child({ reqId: req.id }) : req.log;
}

function logFailure(deps: IngressDependencies, req: IncomingMessage, error: unknown, status: number, logId: string | undefined, reason: string): void {
  const log = requestLog(deps, req);
  if (status >= 500) {
    log.error({ err: error, logId, status }, 'request failed');
  } else {
    log.debug({ status, reason }, 'request rejected');
  }
}

function sendFailure(deps: IngressDependencies, req: IncomingMessage, res: ServerResponse, route: EventRoute, error: unknown): void {
  if (route === EventRoute.Legacy) {
    const failure = toLegacyFailure(error);
    logFailure(deps, req, error, failure.status, failure.logId, failure.body.message);
    sendJson(req, res, failure.status, failure.body, failure.headers);
    return;
  }
  const failure = toHttpFailure(error);
  logFailure(deps, req, error, failure.status, failure.logId, failure.body.error);
  sendJson(req, res, failure.status, failure.body, failure.headers);
}

/**
 * Store every message and throw the first failure once all attempts have settled. A batch that gets
 * 503 may be partly stored, and a retry of the whole batch is safe because each event keeps its `Nats-Msg-Id`.
 */
async function storeAll(store: EventStore, messages: EventMessage[]): Promise<void> {
  if (messages.length === 1) {
    await store.store(messages[0]!);
    return;
  }
  const results = await Promise.allSettled(messages.map((message) => store.store(message)));
  const failed = results.find((result) => result.status === 'rejected');
  if (failed) {
    throw failed.reason;
  }
}

/** Parse, validate and store the CloudEvents of a request, then respond 204 once JetStream acknowledged all of them. */
async function acceptCloudEvents(deps: IngressDependencies, req: IncomingMessage, res: ServerResponse, application: string | undefined): Promise<void> {
  const body = await readBody(req, deps.maxBodyBytes);
  const trace = readTraceHeaders(req);
  const contentType = req.headers['content-type'];
  const events = parseHttpEvents({ rawHeaders: req.rawHeaders, contentType, body });
  const isBatch = detectContentMode(contentType) === ContentMode.Batch;
  const messages = events.map((event, index) => {
    try {
      return createEventMessage(application, withTraceContext(event, trace));
    } catch (error) {
      throw error instanceof InvalidEventError && isBatch ? error.inBatch(index) : error;
    }
  });

  await storeAll(deps.store, messages);
  req.log!.debug({ events: messages.length, eventIds: messages.map((message) => message.eventId) }, 'events stored');
  res.writeHead(204);
  res.end();
}

/** Parse, convert and store one legacy event, then respond 200 with its id once JetStream acknowledged it. */
async function acceptLegacyEvent(deps: IngressDependencies, req: IncomingMessage, res: ServerResponse, application: string): Promise<void> {
  const body = await readBody(req, deps.maxBodyBytes);
  const { eventId, event } = parseLegacyEvent(body, application);

  let message: EventMessage;
  try {
    message = createEventMessage(application, withTraceContext(event, readTraceHeaders(req)));
  } catch (error) {
    if (error instanceof InvalidEventError) {
      throw new LegacyValidationError(LegacyField.EventType, LegacyProblem.InvalidField, `${LegacyField.EventType} ${error.problem}`);
    }
    throw error;
  }

  await deps.store.store(message);
  req.log!.debug({ eventId, subject: message.subject }, 'legacy event stored');
  sendJson(req, res, 200, createLegacySuccess(eventId));
}

/** Create the external listener: event routes over mTLS here, everything else to `fallback`. */
export function createExternalIngress(deps: ExternalIngressDependencies, fallback: RequestListener): RequestListener {
  return (req, res) => {
    const match = matchExternalRoute(req.method, req.url);
    if (match === undefined) {
      fallback(req, res);
      return;
    }

    beginRequest(deps, req, res, match.route);
    const handle = async (): Promise<void> => {
      authenticateApplication(req, match.application, deps.identityOptions, deps.directory);
      if (match.route === EventRoute.Legacy) {
        await acceptLegacyEvent(deps, req, res, match.application);
      } else {
        await acceptCloudEvents(deps, req, res, match.application);
      }
    };
    handle().catch((error: unknown) => sendFailure(deps, req, res, match.route, error));
  };
}

/** Create the internal listener: `POST /publish` for in-platform events here, everything else to `fallback`. */
export function createInternalIngress(deps: InternalIngressDependencies, fallback: RequestListener): RequestListener {
  return (req, res) => {
    const url = req.url ?? '';
    const path = url.includes('?') ? url.slice(0, url.indexOf('?')) : url;
    if (req.method !== 'POST' || path !== EventRoute.Publish) {
      fallback(req, res);
      return;
    }

    beginRequest(deps, req, res, EventRoute.Publish);
    const handle = async (): Promise<void> => {
      await deps.authorizeWorkload?.(req);
      await acceptCloudEvents(deps, req, res, undefined);
    };
    handle().catch((error: unknown) => sendFailure(deps, req, res, EventRoute.Publish, error));
  };
}
