import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** Client credentials the mock's OAuth token endpoint accepts. */
export const MOCK_CLIENT = { clientId: 'ferry-demo', clientSecret: 'demo secret:with+special%chars' } as const;

/** Lifetime of the mock's access tokens, in seconds. */
const TOKEN_TTL_SECONDS = 300;

/** Orders the mock serves, shaped like the OCC `Order` definition of Commerce Webservices v2. */
export const MOCK_ORDERS: Readonly<Record<string, { code: string; status: string; totalPrice: { currencyIso: string; value: number; formattedValue: string } }>> = {
  '76272727': { code: '76272727', status: 'CREATED', totalPrice: { currencyIso: 'EUR', value: 1249.9, formattedValue: '€1,249.90' } },
  '76272728': { code: '76272728', status: 'CREATED', totalPrice: { currencyIso: 'EUR', value: 89.5, formattedValue: '€89.50' } },
};

export type MockCommerce = {
  /** Base URL of the system; the OCC API is under `/rest/v2`. */
  baseUrl: string;
  tokenUrl: string;
  /** Requests served, for the demo's report. */
  calls: { tokens: number; orders: number };
  close(): Promise<void>;
};

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

/** Check HTTP Basic client authentication per RFC 6749 §2.3.1: both parts are form-URL-encoded before base64. */
function basicClientMatches(header: string | undefined): boolean {
  if (!header?.startsWith('Basic ')) {
    return false;
  }
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const at = decoded.indexOf(':');
  const decode = (text: string) => decodeURIComponent(text.replace(/\+/g, ' '));
  return at > 0 && decode(decoded.slice(0, at)) === MOCK_CLIENT.clientId && decode(decoded.slice(at + 1)) === MOCK_CLIENT.clientSecret;
}

/**
 * Start a local commerce system serving a few Commerce Webservices v2 (OCC) operations behind OAuth
 * client credentials: `POST /oauth/token`, `GET /rest/v2/{baseSiteId}/orders/{code}` and
 * `GET /rest/v2/basesites`.
 */
export async function startMockCommerce(): Promise<MockCommerce> {
  const tokens = new Set<string>();
  const calls = { tokens: 0, orders: 0 };

  const server = http.createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://mock');

      if (req.method === 'POST' && url.pathname === '/oauth/token') {
        const form = new URLSearchParams(await readBody(req));
        if (form.get('grant_type') !== 'client_credentials' || !basicClientMatches(req.headers.authorization)) {
          sendJson(res, 401, { error: 'invalid_client' });
          return;
        }
        calls.tokens++;
        const token = randomBytes(24).toString('base64url');
        tokens.add(token);
        sendJson(res, 200, { access_token: token, token_type: 'bearer', expires_in: TOKEN_TTL_SECONDS });
        return;
      }

      const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      if (bearer === undefined || !tokens.has(bearer)) {
        sendJson(res, 401, { errors: [{ type: 'InvalidTokenError', message: 'Invalid access token' }] });
        return;
      }

      const order = /^\/rest\/v2\/([^/]+)\/orders\/([^/]+)$/.exec(url.pathname);
      if (req.method === 'GET' && order) {
        calls.orders++;
        const found = MOCK_ORDERS[decodeURIComponent(order[2]!)];
        if (found) {
          sendJson(res, 200, found);
        } else {
          sendJson(res, 404, { errors: [{ type: 'UnknownIdentifierError', message: `Order with guid ${order[2]} not found` }] });
        }
        return;
      }
      if (req.method === 'GET' && url.pathname === '/rest/v2/basesites') {
        sendJson(res, 200, { baseSites: [{ uid: 'electronics', name: 'Electronics Site' }] });
        return;
      }
      sendJson(res, 404, { errors: [{ type: 'NotFoundError', message: `no mock for ${req.method} ${url.pathname}` }] });
    })();
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    tokenUrl: `http://127.0.0.1:${port}/oauth/token`,
    calls,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
