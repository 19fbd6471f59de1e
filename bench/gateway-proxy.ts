/**
 * Measure the gateway's hot path: GET /{app}/{service}/... with OAuth injection to a local upstream,
 * next to a bare node:http keep-alive proxy, to the same upstream, in the same run. Also measures
 * express + http-proxy-middleware and a plain http-proxy-middleware instance on node:http with the
 * same header injection, for comparison.
 *
 *   node --import tsx bench/gateway-proxy.ts [--seconds 3] [--rounds 3] [--connections 64] [--only gateway,bare]
 *
 * The upstream and the load generator run in child processes, the proxies in this process, so on a
 * two-core machine the proxies compete with them for CPU. Rounds interleave the variants and the
 * median round is reported. Compare ratios, not absolute numbers. "cpu µs/req" is this process's
 * CPU time (user + system) per request, which other processes on the machine disturb far less
 * than requests/s and latency.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { spawn, type ChildProcess } from 'node:child_process';
import express from 'express';
import { createProxyMiddleware } from 'http-proxy-middleware';
import { CredentialsCipher } from '../shared/crypto/credentials-cipher.ts';
import { serviceKey, type ServiceRecord } from '../shared/model/service-record.ts';
import { parseGatewayConfig } from '../services/gateway/config.ts';
import { startGatewayService } from '../services/gateway/service.ts';
import { TestNatsServer } from '../test/helpers/nats-server.ts';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '64' },
    warmup: { type: 'string', default: '2' },
    /** Comma-separated subset of variants, for profiling one of them: direct, bare, gateway, hpm-express, hpm-plain. */
    only: { type: 'string', default: 'direct,bare,gateway,hpm-express,hpm-plain' },
  },
});
const SECONDS = Number(args.seconds);
const ROUNDS = Number(args.rounds);
const CONNECTIONS = Number(args.connections);
const WARMUP_SECONDS = Number(args.warmup);
const STATIC_TOKEN = 'bench-token';

/** Upstream that returns a small JSON body when the request carries a bearer token, and 401 otherwise. */
const UPSTREAM_SOURCE = `
const http = require('node:http');

const body = JSON.stringify({ ok: true, items: [1, 2, 3] });
const server = http.createServer((req, res) => {
  if (!(req.headers.authorization || '').startsWith('Bearer ')) { res.writeHead(401); res.end(); return; }
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
});
server.keepAliveTimeout = 65000;
server.listen(0, '127.0.0.1', () => process.send(server.address().port));
`;

/** Load generator: CONNECTIONS keep-alive loops of sequential GETs for a fixed time, recording each latency. */
const LOADGEN_SOURCE = `
const http = require('node:http');
const { port, path, connections, durationMs } = JSON.parse(process.argv[1]);
const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
const latencies = [];
let errors = 0;
const deadline = Date.now() + durationMs;
function one() {
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    const req = http.request({ host: '127.0.0.1', port, path, agent, headers: { authorization: 'Bearer caller' } }, (res) => {
      res.on('data', () => {});
      res.on('end', () => {
        if (res.statusCode === 200) latencies.push(Number(process.hrtime.bigint() - started) / 1e6); else errors++;
        resolve();
      });
    });
    req.on('error', () => { errors++; resolve(); });
    req.end();
  });
}
async function loop() { while (Date.now() < deadline) await one(); }
Promise.all(Array.from({ length: connections }, loop)).then(() => {
  agent.destroy();
  const sorted = Float64Array.from(latencies).sort();
  const at = (q) => sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  process.send({ count: sorted.length, errors, p50: at(0.5), p99: at(0.99) }, () => process.exit(0));
});
`;

type LoadResult = {
  count: number;
  errors: number;
  p50: number;
  p99: number;
  /** CPU time of this process per request, in microseconds: the proxy's own cost. */
  cpuMicros?: number;
};

/** Run `source` in a child Node process and resolve with the first message it sends. */
function startChild<T>(source: string, argument?: unknown): { child: ChildProcess; first: Promise<T> } {
  const child = spawn(process.execPath, ['-e', source, JSON.stringify(argument ?? null)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const first = new Promise<T>((resolve, reject) => {
    child.once('message', (message) => resolve(message as T));
    child.once('error', reject);
  });
  return { child, first };
}

async function runLoad(port: number, path: string, seconds: number, connections: number): Promise<LoadResult> {
  const { child, first } = startChild<LoadResult>(LOADGEN_SOURCE, { port, path, connections, durationMs: seconds * 1000 });
  const before = process.cpuUsage();
  const result = await first;
  const used = process.cpuUsage(before);
  child.kill();
  return { ...result, cpuMicros: (used.user + used.system) / Math.max(result.count, 1) };
}

function listenLocal(server: http.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

/** Start the reference: a bare keep-alive proxy that adds a fixed bearer token and pipes both ways. */
function startBareProxy(upstreamPort: number): Promise<{ server: http.Server; port: Promise<number> }> {
  const agent = new http.Agent({ keepAlive: true, maxFreeSockets: 64, noDelay: true });
  const server = http.createServer((req, res) => {
    const headers = { ...req.headers, host: `127.0.0.1:${upstreamPort}`, authorization: `Bearer ${STATIC_TOKEN}` };
    const upstream = http.request({ host: '127.0.0.1', port: upstreamPort, path: req.url, method: req.method, headers, agent }, (response) => {
      res.writeHead(response.statusCode ?? 502, response.headers);
      response.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  server.keepAliveTimeout = 65_000;
  return Promise.resolve({ server, port: listenLocal(server) });
}

/** express 5 + http-proxy-middleware 3 with the same injection, as the first gateway design used. */
function createHpmMiddleware(upstreamPort: number): ReturnType<typeof createProxyMiddleware> {
  return createProxyMiddleware({
    target: `http://127.0.0.1:${upstreamPort}`,
    changeOrigin: true,
    agent: new http.Agent({ keepAlive: true, maxFreeSockets: 64 }),
    pathRewrite: (path) => path.replace(/^\/[^/]+\/[^/]+/, ''),
    on: { proxyReq: (proxyReq) => proxyReq.setHeader('authorization', `Bearer ${STATIC_TOKEN}`) },
  });
}

async function startTokenEndpoint(): Promise<{ server: http.Server; port: number }> {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ access_token: STATIC_TOKEN, token_type: 'bearer', expires_in: 3600 }));
  });
  return { server, port: await listenLocal(server) };
}

/** Pick the round with the median request count. */
function medianRound(list: LoadResult[]): LoadResult {
  return [...list].sort((a, b) => a.count - b.count)[Math.floor(list.length / 2)]!;
}

function format(ms: number): string {
  return ms.toFixed(2).padStart(7);
}

async function main(): Promise<void> {
  const nats = await TestNatsServer.start();
  const upstreamChild = startChild<number>(UPSTREAM_SOURCE);
  const upstreamPort = await upstreamChild.first;
  const token = await startTokenEndpoint();

  const keys = CredentialsCipher.generateEntry('bench');
  const cipher = CredentialsCipher.parse(keys, 'bench keys');
  const gateway = await startGatewayService(
    parseGatewayConfig({ NATS_URL: nats.url, FERRY_GATEWAY_INTERNAL_PORT: '0', FERRY_CREDENTIALS_KEYS: keys, FERRY_EGRESS_ALLOW_LOOPBACK: 'true', FERRY_LOG_LEVEL: 'warn' }),
    { installSignalHandlers: false, logDestination: new Writable({ write: (_chunk, _encoding, callback) => callback() }) },
  );
  const now = new Date().toISOString();
  const record: ServiceRecord = {
    id: 'bench',
    application: 'shop',
    provider: 'bench',
    name: 'orders',
    normalizedName: 'orders',
    description: 'bench',
    labels: {},
    api: {
      targetUrl: `http://127.0.0.1:${upstreamPort}/api`,
      credentialType: 'oauth',
      credentials: cipher.encryptJson({ oauth: { url: `http://127.0.0.1:${token.port}/token`, clientId: 'bench', clientSecret: 'bench' } }),
    },
    createdAt: now,
    updatedAt: now,
  };
  await gateway.runtime.resources.kv.services.put(serviceKey('shop', 'bench'), JSON.stringify(record));
  await new Promise((resolve) => setTimeout(resolve, 500));

  const bare = await startBareProxy(upstreamPort);
  const hpmExpress = express();
  hpmExpress.use(createHpmMiddleware(upstreamPort));
  const hpmExpressServer = http.createServer(hpmExpress);
  const hpmPlain = createHpmMiddleware(upstreamPort);
  const hpmPlainServer = http.createServer((req, res) => void hpmPlain(req, res, () => undefined));

  const selected = new Set(args.only.split(','));
  const targets = (
    [
      ['direct', 'upstream direct', upstreamPort, '/api/orders/1'],
      ['bare', 'bare node:http proxy', await bare.port, '/api/orders/1'],
      ['gateway', 'gateway (OAuth)', gateway.internalPort, '/shop/orders/orders/1'],
      ['hpm-express', 'express + hpm', await listenLocal(hpmExpressServer), '/shop/orders/orders/1'],
      ['hpm-plain', 'hpm on node:http', await listenLocal(hpmPlainServer), '/shop/orders/orders/1'],
    ] as const
  )
    .filter(([key]) => selected.has(key))
    .map(([, name, port, path]): [string, number, string] => [name, port, path]);

  for (const [, port, path] of targets) {
    await runLoad(port, path, WARMUP_SECONDS, CONNECTIONS);
  }

  // Rounds interleave the variants, so load from other processes spreads over all of them.
  const rounds = new Map<string, LoadResult[]>(targets.map(([name]) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, port, path] of targets) {
      rounds.get(name)!.push(await runLoad(port, path, SECONDS, CONNECTIONS));
    }
  }
  const results = new Map<string, LoadResult>([...rounds].map(([name, list]) => [name, medianRound(list)]));

  const missing: LoadResult = { count: Number.NaN, errors: 0, p50: Number.NaN, p99: Number.NaN };
  const direct = results.get('upstream direct') ?? missing;
  const bareResult = results.get('bare node:http proxy') ?? missing;
  console.log(`\n${CONNECTIONS} connections, median of ${ROUNDS} rounds of ${SECONDS} s, GET with a bearer token injected, Node ${process.version}\n`);
  console.log('variant                 req/s     p50 ms  p99 ms  +p50 ms +p99 ms  vs bare  cpu µs/req');
  for (const [name, result] of results) {
    const rps = result.count / SECONDS;
    const ratio = rps / (bareResult.count / SECONDS);
    console.log(
      `${name.padEnd(22)} ${rps.toFixed(0).padStart(7)}  ${format(result.p50)} ${format(result.p99)} ${format(result.p50 - direct.p50)} ${format(result.p99 - direct.p99)}  ${ratio.toFixed(2)}x  ${(result.cpuMicros ?? 0).toFixed(0).padStart(8)}${result.errors > 0 ? `  (${result.errors} errors)` : ''}`,
    );
  }

  await gateway.stop();
  for (const server of [bare.server, hpmExpressServer, hpmPlainServer, token.server]) {
    server.closeAllConnections();
    server.close();
  }
  upstreamChild.child.kill();
  await nats.stop();
}

await main();
