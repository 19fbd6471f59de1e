import https from 'node:https';
import { toText } from './output.ts';
import { CommandError } from './usage.ts';

/** TLS material of a paired system: its key and certificate chain, and the CA that signs Ferry's server certificate. */
export type ClientTls = { key?: string; cert?: string; ca?: string };

export type JsonResponse = { status: number; body: unknown; headers: Record<string, string | string[] | undefined> };

/** Timeout of one call to Ferry's external API. */
export const SYSTEM_REQUEST_TIMEOUT_MS = 30_000;

/**
 * Send one HTTPS request as a paired system would, with an optional client certificate, and parse
 * the JSON response. Raises `CommandError` for network failures and for non-2xx responses.
 */
export function requestExternal(
  method: string,
  url: string,
  tls: ClientTls,
  options: { body?: string | Buffer; headers?: Record<string, string> } = {},
): Promise<JsonResponse> {
  return new Promise((resolve, reject) => {
    const request = https.request(
      url,
      { method, headers: options.headers, key: tls.key, cert: tls.cert, ca: tls.ca, timeout: SYSTEM_REQUEST_TIMEOUT_MS, agent: false },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try {
            body = text === '' ? undefined : JSON.parse(text);
          } catch {
            // Not JSON: keep the text.
          }
          const status = response.statusCode ?? 0;
          if (status < 200 || status > 299) {
            reject(new CommandError(`${method} ${redactToken(url)} failed with ${status}: ${describeErrorBody(body)}`));
            return;
          }
          resolve({ status, body, headers: response.headers });
        });
      },
    );
    request.on('timeout', () => request.destroy(new Error(`no response within ${SYSTEM_REQUEST_TIMEOUT_MS} ms`)));
    request.on('error', (error) => reject(new CommandError(`${method} ${redactToken(url)} failed: ${error.message}`)));
    request.end(options.body);
  });
}

/** Hide one-time tokens in URLs shown in error messages. */
export function redactToken(url: string): string {
  return url.replace(/([?&]token=)[^&]+/, '$1…');
}

function describeErrorBody(body: unknown): string {
  if (typeof body === 'object' && body !== null) {
    const record = body as Record<string, unknown>;
    if (typeof record.error === 'string') return record.error;
    if (typeof record.message === 'string') return record.message;
    return JSON.stringify(body).slice(0, 500);
  }
  return toText(body).slice(0, 500);
}
