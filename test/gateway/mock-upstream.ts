import { randomBytes } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { TestPki } from '../helpers/pki.ts';

/** What `/echo` returns: the request exactly as the upstream received it. */
export type EchoBody = { method: string; url: string; headers: http.IncomingHttpHeaders; body: string; peer?: string };

type OAuthClient = { secret: string; expiresIn: number | undefined };

/** Basic credentials the mock accepts on `/basic` and `/csrf`. */
export const MOCK_BASIC_USER = 'erp-user';
export const MOCK_BASIC_PASSWORD = 'pa:ss w%rd';

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: http.OutgoingHttpHeaders = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Decode Basic credentials whose parts are form-URL-encoded (RFC 6749 §2.3.1). */
function readFormEncodedBasic(header: string | undefined): { id: string; secret: string } | undefined {
  const match = /^Basic (.+)$/.exec(header ?? '');
  if (!match) {
    return undefined;
  }
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const at = decoded.indexOf(':');
  const formDecode = (value: string): string => decodeURIComponent(value.replace(/\+/g, ' '));
  return { id: formDecode(decoded.slice(0, at)), secret: formDecode(decoded.slice(at + 1)) };
}

/**
 * A local upstream for gateway tests. The first path segment picks the guard:
 * - `/oauth/token` issues client-credentials tokens with a short, per-client lifetime;
 * - `/oauth/...` requires a valid bearer token, `/basic/...` Basic credentials;
 * - `/csrf/token` hands out a CSRF token and session cookie, and `/csrf/...` requires both;
 * - `/open/...` has no guard.
 * The rest of the path picks the behaviour: `echo`, `slow?ms=N`, `status/N`, `redirect/...`, `reset`.
 */
export class MockUpstream {
  readonly tokenCalls = new Map<string, number>();
  lastTokenRequest: { url: string; headers: http.IncomingHttpHeaders; form: URLSearchParams } | undefined;
  csrfFetches = 0;
  connections = 0;
  /** Requests by path, counted before any guard. */
  readonly hits = new Map<string, number>();
  private readonly clients = new Map<string, OAuthClient>();
  private readonly tokens = new Map<string, number>();
  private csrfToken = randomBytes(8).toString('hex');
  private csrfSession = randomBytes(8).toString('hex');

  private constructor(
    private readonly server: http.Server,
    readonly port: number,
  ) {}

  static async start(): Promise<MockUpstream> {
    const holder: { mock?: MockUpstream } = {};
    const server = http.createServer((req, res) => {
      holder.mock!.handle(req, res).catch((error: unknown) => sendJson(res, 500, { error: String(error) }));
    });
    server.on('connection', () => holder.mock!.connections++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    holder.mock = new MockUpstream(server, (server.address() as AddressInfo).port);
    return holder.mock;
  }

  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Register an OAuth client. `expiresIn` undefined leaves `expires_in` out of the token response. */
  addClient(id: string, secret: string, expiresIn: number | undefined): void {
    this.clients.set(id, { secret, expiresIn });
  }

  /** Invalidate every issued token, so the next call with a cached one gets 401. */
  revokeTokens(): void {
    this.tokens.clear();
  }

  /** Replace the CSRF token and session, so the next call with the cached ones gets 403. */
  rotateCsrfToken(): void {
    this.csrfToken = randomBytes(8).toString('hex');
    this.csrfSession = randomBytes(8).toString('hex');
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const path = url.split('?', 1)[0]!;
    const guard = path.split('/')[1];
    const rest = path.slice(guard === undefined ? 0 : guard.length + 1);
    this.hits.set(path, (this.hits.get(path) ?? 0) + 1);

    if (path === '/oauth/token') {
      await this.issueToken(req, res);
      return;
    }
    if (path === '/csrf/token') {
      this.issueCsrfToken(req, res);
      return;
    }
    if (guard === 'oauth' && !this.hasValidBearer(req)) {
      sendJson(res, 401, { error: 'invalid_token' }, { 'www-authenticate': 'Bearer' });
      return;
    }
    if ((guard === 'basic' || guard === 'csrf') && !this.hasValidBasic(req)) {
      sendJson(res, 401, { error: 'basic credentials required' });
      return;
    }
    if (guard === 'csrf' && !this.hasValidCsrf(req)) {
      sendJson(res, 403, { error: 'CSRF token validation failed' }, { 'x-csrf-token': 'Required' });
      return;
    }
    await respond(req, res, rest, url, this.origin);
  }

  private async issueToken(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const form = new URLSearchParams((await readBody(req)).toString('utf8'));
    this.lastTokenRequest = { url: req.url ?? '', headers: req.headers, form };
    const basic = readFormEncodedBasic(req.headers.authorization);
    const clientId = form.get('client_id') ?? basic?.id ?? '';
    this.tokenCalls.set(clientId, (this.tokenCalls.get(clientId) ?? 0) + 1);

    const client = this.clients.get(clientId);
    const formValid = form.get('grant_type') === 'client_credentials' && form.get('client_secret') === client?.secret;
    const basicValid = basic?.id === clientId && basic.secret === client?.secret;
    if (client === undefined || !formValid || !basicValid) {
      sendJson(res, 401, { error: 'invalid_client' });
      return;
    }

    const token = randomBytes(16).toString('hex');
    this.tokens.set(token, client.expiresIn === undefined ? Number.POSITIVE_INFINITY : Date.now() + client.expiresIn * 1000);
    sendJson(res, 200, { access_token: token, token_type: 'bearer', ...(client.expiresIn === undefined ? {} : { expires_in: client.expiresIn }) });
  }

  private issueCsrfToken(req: IncomingMessage, res: ServerResponse): void {
    this.csrfFetches++;
    if (req.headers['x-csrf-token'] !== 'Fetch' || !this.hasValidBasic(req)) {
      sendJson(res, 401, { error: 'fetch requires X-CSRF-Token: Fetch and Basic credentials' });
      return;
    }
    res.writeHead(200, { 'x-csrf-token': this.csrfToken, 'set-cookie': [`session=${this.csrfSession}; Path=/; HttpOnly`, 'lb=node1; Path=/'] });
    res.end();
  }

  private hasValidBearer(req: IncomingMessage): boolean {
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const expiresAt = token === undefined ? undefined : this.tokens.get(token);
    return expiresAt !== undefined && expiresAt > Date.now();
  }

  private hasValidBasic(req: IncomingMessage): boolean {
    const expected = `Basic ${Buffer.from(`${MOCK_BASIC_USER}:${MOCK_BASIC_PASSWORD}`).toString('base64')}`;
    return req.headers.authorization === expected;
  }

  private hasValidCsrf(req: IncomingMessage): boolean {
    const cookies = (req.headers.cookie ?? '').split(';').map((pair) => pair.trim());
    return req.headers['x-csrf-token'] === this.csrfToken && cookies.includes(`session=${this.csrfSession}`);
  }
}

/** Respond with the behaviour that the path after the guard segment selects. */
async function respond(req: IncomingMessage, res: ServerResponse, rest: string, url: string, origin: string): Promise<void> {
  const query = new URLSearchParams(url.includes('?') ? url.slice(url.indexOf('?') + 1) : '');
  const body = await readBody(req);

  if (rest === '/reset') {
    req.socket.destroy();
    return;
  }
  if (rest.startsWith('/slow')) {
    const delayMs = Number(query.get('ms') ?? '5000');
    const timer = setTimeout(() => sendJson(res, 200, { slept: delayMs }), delayMs);
    res.once('close', () => clearTimeout(timer));
    return;
  }
  const status = /^\/status\/(\d{3})$/.exec(rest);
  if (status) {
    sendJson(res, Number(status[1]), { upstreamStatus: Number(status[1]) });
    return;
  }
  if (rest.startsWith('/redirect/')) {
    const locations: Record<string, [number, string]> = {
      '/redirect/absolute': [302, `${origin}/open/echo/moved?x=1`],
      '/redirect/relative': [303, '/open/echo/relative?y=2'],
      '/redirect/other-path': [302, `${origin}/elsewhere/page`],
      '/redirect/other-host': [307, 'https://example.org/open/echo'],
      '/redirect/created': [201, `${origin}/open/echo/items/7`],
    };
    const [code, location] = locations[rest] ?? [404, ''];
    res.writeHead(code, location === '' ? {} : { location });
    res.end();
    return;
  }
  if (rest.startsWith('/echo')) {
    const commonName = (req.socket as Partial<TLSSocket>).getPeerCertificate?.()?.subject?.CN;
    const peer = typeof commonName === 'string' ? commonName : undefined;
    const echo: EchoBody = { method: req.method ?? '', url, headers: req.headers, body: body.toString('utf8'), ...(peer === undefined ? {} : { peer }) };
    sendJson(res, 200, echo, { 'set-cookie': 'upstream=1', connection: 'x-upstream-hop', 'x-upstream-hop': 'dropped', 'keep-alive': 'timeout=5' });
    return;
  }
  sendJson(res, 404, { error: `mock has no route ${rest}` });
}

/** Start an HTTPS upstream that requires a client certificate issued by its own CA, for mTLS targets. */
export async function startMtlsUpstream(pki: TestPki): Promise<{ origin: string; stop(): Promise<void> }> {
  const server = https.createServer(
    { cert: pki.server.certificatePem, key: pki.server.privateKeyPem, ca: pki.ca.certificatePem, requestCert: true, rejectUnauthorized: true },
    (req, res) => {
      respond(req, res, (req.url ?? '/').split('?', 1)[0]!.replace(/^\/[^/]*/, ''), req.url ?? '/', '').catch(() => res.destroy());
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `https://127.0.0.1:${port}`,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
