import http from 'node:http';
import https from 'node:https';
import type { EgressPolicyConfig } from '../../shared/config/common.ts';
import { createEgressLookup } from '../../shared/egress/egress-policy.ts';

/** Sockets per sink host and protocol. `maxInFlightMessages` bounds the concurrency per subscription below this. */
export const SINK_MAX_SOCKETS = 256;
/** Bytes of a failed sink response kept for `lastError`. */
export const SINK_ERROR_BODY_LIMIT_BYTES = 512;

/** The outcome of one POST: the response status, or the reason no response arrived. */
export type SinkResult =
  | { status: number; retryAfter: string | undefined; body: string }
  | { status: undefined; error: string; code: string | undefined };

export type SinkRequest = {
  url: string;
  headers: Record<string, string>;
  body: Buffer | undefined;
  timeoutMs: number;
  /** Called at intervals while the request runs, to tell JetStream the event is still being worked on. */
  onProgress?: () => void;
  progressIntervalMs?: number;
};

export type SinkClient = {
  post(request: SinkRequest): Promise<SinkResult>;
  close(): void;
};

/**
 * Create the HTTP client for sinks: keep-alive agents whose lookup applies the egress policy, so a
 * sink that resolves to a denied address fails before any connection is made.
 */
export function createSinkClient(policy: EgressPolicyConfig): SinkClient {
  const lookup = createEgressLookup(policy);
  const agentOptions = { keepAlive: true, maxSockets: SINK_MAX_SOCKETS, lookup };
  const httpAgent = new http.Agent(agentOptions);
  const httpsAgent = new https.Agent(agentOptions);

  return {
    post: (request) => postOnce(request, request.url.startsWith('https:') ? httpsAgent : httpAgent),
    close() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}

function postOnce(request: SinkRequest, agent: http.Agent): Promise<SinkResult> {
  const url = new URL(request.url);
  const transport = url.protocol === 'https:' ? https : http;
  const headers = { ...request.headers, 'content-length': String(request.body?.length ?? 0) };

  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: SinkResult): void => {
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        clearInterval(progress);
        resolve(result);
      }
    };

    const req = transport.request(url, { method: 'POST', headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        if (size < SINK_ERROR_BODY_LIMIT_BYTES) {
          chunks.push(chunk);
          size += chunk.length;
        }
      });
      res.on('end', () => {
        const retryAfter = res.headers['retry-after'];
        const body = Buffer.concat(chunks).subarray(0, SINK_ERROR_BODY_LIMIT_BYTES).toString('utf8');
        finish({ status: res.statusCode ?? 0, retryAfter, body });
      });
      res.on('error', (error: NodeJS.ErrnoException) => finish({ status: undefined, error: error.message, code: error.code }));
    });

    const timer = setTimeout(() => {
      req.destroy();
      finish({ status: undefined, error: `no response within ${request.timeoutMs} ms`, code: 'ETIMEDOUT' });
    }, request.timeoutMs);
    const intervalMs = request.progressIntervalMs ?? request.timeoutMs;
    const progress = request.onProgress !== undefined && intervalMs < request.timeoutMs ? setInterval(request.onProgress, intervalMs) : undefined;

    req.on('error', (error: NodeJS.ErrnoException) => finish({ status: undefined, error: error.message, code: error.code }));
    req.end(request.body);
  });
}
