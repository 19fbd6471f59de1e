import http from 'node:http';
import https from 'node:https';

export type TestResponse = { status: number; headers: http.IncomingHttpHeaders; body: string; json: () => unknown };

export type TestRequest = {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** For HTTPS: the CA that signs the server certificate. */
  ca?: string;
  /** For mTLS: the client certificate and key. */
  cert?: string;
  key?: string;
  timeoutMs?: number;
};

/** Send one request over a fresh connection, over TLS for `https:` URLs, and buffer the answer. */
export function request(url: string, options: TestRequest = {}): Promise<TestResponse> {
  const target = new URL(url);
  const isHttps = target.protocol === 'https:';
  const transport = isHttps ? https : http;

  return new Promise((resolve, reject) => {
    const req = transport.request(
      target,
      {
        method: options.method ?? 'GET',
        headers: options.headers,
        agent: false,
        ...(isHttps ? { ca: options.ca, cert: options.cert, key: options.key, servername: 'localhost' } : {}),
        timeout: options.timeoutMs ?? 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body) as unknown });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`request to ${url} timed out`)));
    req.on('error', reject);
    req.end(options.body);
  });
}
