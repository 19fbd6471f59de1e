import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import type { EgressPolicyConfig } from '../../../shared/config/common.ts';
import { checkAddress, createEgressLookup, hostOfUrl } from '../../../shared/egress/egress-policy.ts';

/** Outcome of a bounded outbound request: the response, or the reason there is none. */
export type FetchResult = { ok: true; status: number; headers: http.IncomingHttpHeaders; body: Buffer } | { ok: false; reason: string };

export type BoundedRequest = {
  method: 'GET' | 'POST';
  headers: Record<string, string | string[]>;
  body?: string;
  /** Limit from the start of the request to the last body byte, in milliseconds. */
  timeoutMs: number;
  /** Largest accepted response body, in bytes. A larger body aborts the request. */
  maxBytes: number;
};

/**
 * An outbound HTTP client bound to an egress policy. Every connection resolves its host through the
 * policy's lookup, and IP literals, which Node connects to without a lookup, are checked first.
 * Redirects are not followed.
 */
export class EgressHttpClient {
  private readonly lookup: LookupFunction;

  constructor(private readonly policy: EgressPolicyConfig) {
    this.lookup = createEgressLookup(policy);
  }

  /** Send one request and buffer the response. Never throws, because failures are returned as `{ ok: false, reason }`. */
  send(url: URL, request: BoundedRequest): Promise<FetchResult> {
    const denial = this.checkLiteralAddress(url);
    if (denial !== undefined) {
      return Promise.resolve({ ok: false, reason: `egress policy denies ${url.host}: ${denial}` });
    }
    return this.exchange(url, request);
  }

  private checkLiteralAddress(url: URL): string | undefined {
    const host = hostOfUrl(url);
    const allowed = this.policy.allowedHosts.some((entry) => entry.toLowerCase() === host.toLowerCase());
    return isIP(host) !== 0 && !allowed ? checkAddress(host, this.policy) : undefined;
  }

  private exchange(url: URL, request: BoundedRequest): Promise<FetchResult> {
    const transport = url.protocol === 'https:' ? https : http;

    return new Promise((resolve) => {
      let settled = false;
      let req: http.ClientRequest | undefined;
      const finish = (result: FetchResult): void => {
        if (!settled) {
          settled = true;
          clearTimeout(deadline);
          resolve(result);
        }
      };
      const deadline = setTimeout(() => {
        req?.destroy();
        finish({ ok: false, reason: `no complete response within ${request.timeoutMs} ms` });
      }, request.timeoutMs);

      try {
        const options = { method: request.method, headers: request.headers, agent: false, lookup: this.lookup };
        req = transport.request(url, options, (res) => collectBody(res, request.maxBytes, finish));
      } catch (error) {
        // `http.request` throws synchronously for invalid header names or values.
        finish({ ok: false, reason: error instanceof Error ? describeNetworkError(error) : 'invalid request' });
        return;
      }

      req.on('error', (error) => finish({ ok: false, reason: describeNetworkError(error) }));
      req.end(request.body);
    });
  }
}

/** Buffer a response body up to `maxBytes`, destroying the response as soon as it is exceeded. */
function collectBody(res: http.IncomingMessage, maxBytes: number, finish: (result: FetchResult) => void): void {
  const declared = Number(res.headers['content-length'] ?? '0');
  if (declared > maxBytes) {
    res.destroy();
    finish({ ok: false, reason: `response body of ${declared} bytes exceeds the limit of ${maxBytes} bytes` });
    return;
  }

  const chunks: Buffer[] = [];
  let received = 0;
  res.on('data', (chunk: Buffer) => {
    received += chunk.length;
    if (received > maxBytes) {
      res.destroy();
      finish({ ok: false, reason: `response body exceeds the limit of ${maxBytes} bytes` });
      return;
    }
    chunks.push(chunk);
  });
  res.on('end', () => finish({ ok: true, status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
  res.on('error', (error) => finish({ ok: false, reason: describeNetworkError(error) }));
}

function describeNetworkError(error: Error): string {
  const code = (error as { code?: unknown }).code;
  if (code === 'ERR_EGRESS_DENIED') {
    return error.message;
  }
  return typeof code === 'string' ? `${code}: ${error.message}` : error.message;
}
