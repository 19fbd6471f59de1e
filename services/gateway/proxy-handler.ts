import type { ClientRequest, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { readBearerToken, type AdminTokenVerifier } from '../../shared/auth/admin-auth.ts';
import { InputError, UpstreamError } from '../../shared/errors/errors.ts';
import { toHttpFailure } from '../../shared/errors/http-handler.ts';
import type { Logger } from '../../shared/logging/logger.ts';
import type { HttpMetrics } from '../../shared/metrics/metrics.ts';
import { observeRequest, resolveRequestId } from '../../shared/http/request-context.ts';
import type { CredentialInjector } from './credential-injector.ts';
import { addMissingHeaders, toCallerResponseHeaders, toTargetRequestHeaders } from './forwarded-headers.ts';
import { parseGatewayPath } from './gateway-path.ts';
import type { PreparedTarget, ServiceDirectory } from './service-directory.ts';
import { toOutboundFailure } from './target-errors.ts';
import { readRequestBody, sendTargetRequest, streamRequestBody, type RequestBody } from './target-request.ts';
import { buildTargetPath, rewriteLocation } from './target-url.ts';
import { writeFailure } from './write-failure.ts';

/** Route label of every proxied request in the HTTP metrics. */
export const GATEWAY_ROUTE = '/:app/:service/*';

/** Response header that carries a target's original 5xx status. */
export const TARGET_STATUS_HEADER = 'target-system-status';

export type ProxyHandlerOptions = {
  directory: ServiceDirectory;
  credentials: CredentialInjector;
  timeoutMs: number;
  retryBufferBytes: number;
  log: Logger;
  metrics: HttpMetrics;
  /** Verifies the caller's bearer token when workload authentication is required. */
  verifyWorkload: AdminTokenVerifier | undefined;
};

/** Per-request state shared by the steps of one proxied call. */
type ProxyCall = {
  req: IncomingMessage;
  res: ServerResponse;
  requestId: string;
  target: PreparedTarget;
  gatewayPrefix: string;
  targetPath: string;
  /** The request to the target in flight, destroyed when the caller disconnects. */
  upstream: ClientRequest | undefined;
};

/**
 * Create the handler of `/{app}/{service}/{path}`. It runs on `node:http` without express, because
 * this is the gateway's hot path.
 */
export function createProxyHandler(options: ProxyHandlerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const startedAt = process.hrtime.bigint();
    const requestId = resolveRequestId(req);
    res.once('finish', () => observeRequest(options.metrics, req, res, GATEWAY_ROUTE, startedAt));

    proxy(options, req, res, requestId).catch((error: unknown) => {
      if (res.destroyed) {
        return;
      }
      writeFailure(res, toHttpFailure(error), error, options.log.child({ reqId: requestId }), { 'x-request-id': requestId });
    });
  };
}

async function proxy(options: ProxyHandlerOptions, req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
  const path = parseGatewayPath(req.url ?? '/');
  if (options.verifyWorkload !== undefined) {
    await options.verifyWorkload(readBearerToken(req.headers.authorization));
  }
  const target = options.directory.resolve(path.app, path.service);
  const { api } = target.record;

  const call: ProxyCall = {
    req,
    res,
    requestId,
    target,
    gatewayPrefix: `/${path.app}/${path.service}`,
    targetPath: buildTargetPath(target.base, path.rest, path.query, api.requestParameters?.queryParameters),
    upstream: undefined,
  };
  res.once('close', () => {
    if (!res.writableFinished) {
      call.upstream?.destroy();
    }
  });

  const baseHeaders = buildBaseHeaders(options, call);
  const accessToken = readAccessToken(req);

  let headers = { ...baseHeaders };
  const applied = await options.credentials.apply(target, headers, accessToken);
  // Only cached tokens can go stale, so a request without an OAuth or CSRF token is never retried.
  const retryable = applied.oauthToken !== undefined || applied.csrf !== undefined;
  const body = retryable ? await readRequestBody(req, options.retryBufferBytes) : streamRequestBody(req);

  let response = await send(options, call, headers, body);
  const status = response.statusCode ?? 0;
  if (retryable && body.kind !== 'stream' && (status === 401 || (status === 403 && applied.csrf !== undefined))) {
    response.resume();
    options.log.warn({ reqId: requestId, app: target.record.application, serviceId: target.record.id, status }, 'target rejected the credentials, retrying with fresh tokens');
    options.credentials.invalidate(target, applied);
    headers = { ...baseHeaders };
    await options.credentials.apply(target, headers, accessToken);
    response = await send(options, call, headers, body);
  }

  relayResponse(options, call, response);
}

/** Build the target request's headers before credentials: the caller's, registered ones and `Host`. */
function buildBaseHeaders(options: ProxyHandlerOptions, call: ProxyCall): OutgoingHttpHeaders {
  const headers = toTargetRequestHeaders(call.req.headers, options.verifyWorkload !== undefined);
  addMissingHeaders(headers, call.target.record.api.requestParameters?.headers);
  headers.host = call.target.base.url.host;
  headers['x-request-id'] ??= call.requestId;
  return headers;
}

function readAccessToken(req: IncomingMessage): string | undefined {
  const value = req.headers['access-token'];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

async function send(options: ProxyHandlerOptions, call: ProxyCall, headers: OutgoingHttpHeaders, body: RequestBody): Promise<IncomingMessage> {
  const { target } = call;
  if (call.res.destroyed) {
    throw new InputError('the caller closed the connection before the request was sent');
  }
  try {
    if (target.egressDenial !== undefined) {
      throw target.egressDenial;
    }
    return await sendTargetRequest({
      url: target.base.url,
      path: call.targetPath,
      method: call.req.method ?? 'GET',
      headers,
      body,
      agent: target.agent,
      timeoutMs: options.timeoutMs,
      onRequest: (request) => {
        call.upstream = request;
      },
    });
  } catch (error) {
    throw toOutboundFailure(error, `target ${target.base.url.origin}${target.base.basePath}`);
  }
}

/**
 * Pass the target's response to the caller. A 5xx becomes 502 with the original status in
 * `Target-System-Status`, and a `Location` pointing back into the target is rewritten to the
 * gateway path.
 */
function relayResponse(options: ProxyHandlerOptions, call: ProxyCall, response: IncomingMessage): void {
  const { res, target } = call;
  const status = response.statusCode ?? 502;

  if (status >= 500) {
    response.resume();
    const error = new UpstreamError(`target ${target.base.url.origin}${target.base.basePath} returned status ${status}`);
    const headers = { [TARGET_STATUS_HEADER]: String(status), 'x-request-id': call.requestId };
    writeFailure(res, toHttpFailure(error), error, options.log.child({ reqId: call.requestId }), headers);
    return;
  }

  const headers = toCallerResponseHeaders(response.headers);
  // Passing every header to writeHead, with none set before, keeps Node on its fast path.
  headers['x-request-id'] = call.requestId;
  const location = response.headers.location;
  if (location !== undefined && ((status >= 300 && status < 400) || status === 201)) {
    const requestUrl = new URL(call.targetPath, target.base.url);
    headers.location = rewriteLocation(location, requestUrl, target.base, call.gatewayPrefix) ?? location;
  }

  res.writeHead(status, headers);
  response.on('error', () => res.destroy());
  response.pipe(res);
}
