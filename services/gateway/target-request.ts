import http, { type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import { InputError } from '../../shared/errors/errors.ts';
import { hostOfUrl } from '../../shared/egress/egress-policy.ts';
import { TargetTimeoutError } from './target-errors.ts';

/**
 * A request body on its way to the target: none, fully buffered (so it can be sent again), or a
 * stream whose first chunks were already read.
 */
export type RequestBody =
  | { kind: 'none' }
  | { kind: 'buffered'; data: Buffer }
  | { kind: 'stream'; head: Buffer[]; source: IncomingMessage };

/** True when the request carries a body, per RFC 9112 §6.3. */
function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** Pass the body through without buffering. */
export function streamRequestBody(req: IncomingMessage): RequestBody {
  return hasBody(req) ? { kind: 'stream', head: [], source: req } : { kind: 'none' };
}

/**
 * Buffer the body up to `limit` bytes so it can be sent twice. A body that declares or reaches a
 * larger size is returned as a stream, and the request cannot be retried.
 */
export function readRequestBody(req: IncomingMessage, limit: number): Promise<RequestBody> {
  if (!hasBody(req)) {
    return Promise.resolve({ kind: 'none' });
  }
  if (Number(req.headers['content-length']) > limit) {
    return Promise.resolve({ kind: 'stream', head: [], source: req });
  }

  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      size += chunk.length;
      if (size > limit) {
        cleanup();
        req.pause();
        resolve({ kind: 'stream', head: chunks, source: req });
      }
    };
    const onEnd = (): void => {
      cleanup();
      resolve({ kind: 'buffered', data: Buffer.concat(chunks) });
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(new InputError('request body could not be read, the caller closed the connection', { cause: error }));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

export type TargetRequest = {
  /** Origin of the target: protocol, host and port. */
  url: URL;
  /** Request target (path and query), sent unchanged. */
  path: string;
  method: string;
  headers: OutgoingHttpHeaders;
  body: RequestBody;
  agent: http.Agent;
  timeoutMs: number;
  /** Receives the outgoing request as soon as it exists, so the caller can destroy it when its client leaves. */
  onRequest: (request: http.ClientRequest) => void;
};

/**
 * Send one request to the target and resolve with its response once the headers arrive. Rejects
 * with `TargetTimeoutError` when the connection stays idle for `timeoutMs`, before or after the
 * headers. Redirects are not followed.
 */
export function sendTargetRequest(options: TargetRequest): Promise<IncomingMessage> {
  const { url, body } = options;
  const transport = url.protocol === 'https:' ? https : http;

  return new Promise((resolve, reject) => {
    const request = transport.request(
      {
        protocol: url.protocol,
        hostname: hostOfUrl(url),
        port: url.port,
        path: options.path,
        method: options.method,
        headers: options.headers,
        agent: options.agent,
        timeout: options.timeoutMs,
      },
      resolve,
    );
    options.onRequest(request);
    request.on('timeout', () => request.destroy(new TargetTimeoutError(`${options.timeoutMs} ms`)));
    // NOTE: when the target closes an idle keep-alive socket just as it is reused, the request fails
    // with ECONNRESET and the caller gets 502. It is not resent, because the method may not be idempotent.
    request.on('error', reject);

    switch (body.kind) {
      case 'none':
        request.end();
        break;
      case 'buffered':
        request.end(body.data);
        break;
      case 'stream':
        for (const chunk of body.head) {
          request.write(chunk);
        }
        body.source.pipe(request);
        break;
    }
  });
}
