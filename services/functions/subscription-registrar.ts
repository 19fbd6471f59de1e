import type { Logger } from 'pino';
import type { LoadedFunction } from './function-loader.ts';

/** The subscription body that the dispatcher API takes. */
export type SubscriptionRequest = Record<string, unknown> & { name: string };

/** Turn the subscriptions that `function.json` declares into dispatcher subscriptions whose sink is the Function. */
export function toSubscriptionRequests(fn: LoadedFunction, sinkBaseUrl: string): SubscriptionRequest[] {
  return fn.manifest.subscriptions.map((declared, index) => {
    const request: SubscriptionRequest = {
      name: declared.name ?? (index === 0 ? fn.name : `${fn.name}-${index}`),
      sink: `${sinkBaseUrl}/${fn.name}`,
      types: declared.types,
    };
    for (const key of ['source', 'typeMatching', 'config', 'delivery'] as const) {
      if (declared[key] !== undefined) {
        request[key] = declared[key];
      }
    }
    return request;
  });
}

/** A dispatcher response that retrying cannot fix, such as a 400 for an invalid subscription. */
export class RegistrationRejectedError extends Error {}

async function send(dispatcherUrl: string, token: string, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${dispatcherUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
}

function isRetryable(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

/** Create or update one subscription: PUT, and POST when it does not exist yet. A POST that races with another replica falls back to PUT. */
export async function upsertSubscription(dispatcherUrl: string, token: string, request: SubscriptionRequest): Promise<'created' | 'updated'> {
  const path = `/v1/subscriptions/${request.name}`;
  for (let round = 0; round < 3; round++) {
    const put = await send(dispatcherUrl, token, 'PUT', path, request);
    if (put.ok) {
      return 'updated';
    }
    if (put.status !== 404) {
      throw toFailure(put.status, await put.text(), request.name);
    }
    const post = await send(dispatcherUrl, token, 'POST', '/v1/subscriptions', request);
    if (post.status === 201) {
      return 'created';
    }
    if (post.status !== 409) {
      throw toFailure(post.status, await post.text(), request.name);
    }
  }
  throw new Error(`subscription '${request.name}' keeps changing concurrently`);
}

function toFailure(status: number, body: string, name: string): Error {
  const message = `dispatcher responded with ${status} for subscription '${name}': ${body.slice(0, 300)}`;
  return isRetryable(status) ? new Error(message) : new RegistrationRejectedError(message);
}

/**
 * Register every Function's subscriptions, retrying while the dispatcher is unreachable or returns
 * 5xx. Resolves once all are registered, rejects with `RegistrationRejectedError` on a response that
 * retrying cannot fix, and stops retrying when `signal` aborts.
 */
export async function registerSubscriptions(
  requests: SubscriptionRequest[],
  options: { dispatcherUrl: string; token: string; retryMs: number; log: Logger; signal: AbortSignal },
): Promise<void> {
  for (const request of requests) {
    for (;;) {
      try {
        const outcome = await upsertSubscription(options.dispatcherUrl, options.token, request);
        options.log.info({ subscription: request.name, sink: request.sink, outcome }, 'function subscription registered');
        break;
      } catch (error) {
        if (error instanceof RegistrationRejectedError || options.signal.aborted) {
          throw error;
        }
        options.log.warn({ err: error, subscription: request.name, retryMs: options.retryMs }, 'cannot register function subscription, retrying');
        await new Promise((resolve) => setTimeout(resolve, options.retryMs));
      }
    }
  }
}
