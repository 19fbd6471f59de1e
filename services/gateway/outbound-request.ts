import http, { type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import { UpstreamError } from '../../shared/errors/errors.ts';
import { TargetTimeoutError } from './target-errors.ts';

/** Largest response body read from a token or CSRF endpoint. */
export const MAX_AUXILIARY_RESPONSE_BYTES = 64 * 1024;

export type BufferedResponse = { status: number; headers: IncomingHttpHeaders; body: Buffer };

export type BufferedRequest = {
  method: string;
  headers: OutgoingHttpHeaders;
  body?: string;
  agent: http.Agent;
  timeoutMs: number;
};

/**
 * Send a small request and read the whole response, for token and CSRF endpoints. Rejects with
 * `TargetTimeoutError` when the endpoint stays silent for `timeoutMs`, and with `UpstreamError`
 * when the response is larger than `MAX_AUXILIARY_RESPONSE_BYTES`. Redirects are not followed.
 */
export function sendBufferedRequest(url: URL, options: BufferedRequest): Promise<BufferedResponse> {
  const transport = url.protocol === 'https:' ? https : http;

  return new Promise((resolve, reject) => {
    const req = transport.request(url, { method: options.method, headers: options.headers, agent: options.agent, timeout: options.timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_AUXILIARY_RESPONSE_BYTES) {
          req.destroy(new UpstreamError(`${url.origin}${url.pathname} sent a response larger than ${MAX_AUXILIARY_RESPONSE_BYTES} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new TargetTimeoutError(`${options.timeoutMs} ms`)));
    req.on('error', reject);
    req.end(options.body);
  });
}
