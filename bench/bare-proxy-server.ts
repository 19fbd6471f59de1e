/**
 * The baseline of the gateway benchmark, as its own process: a bare `node:http` keep-alive proxy
 * that adds a fixed bearer token and pipes request and response both ways, with no checks, no
 * header filtering and no metrics. The agent sets `noDelay`, as the gateway's agents do.
 *
 * Settings come from the environment: BENCH_PORT, BENCH_UPSTREAM_PORT. Prints `ready` once it listens.
 */
import http from 'node:http';
import { readPortVariable, serveOnLoopback } from './lib/helper-server.ts';

/** Token added to each request. The target accepts any bearer token. */
const INJECTED_TOKEN = 'bench-token';
/** Idle connections to the target kept open, one per load connection. */
const MAX_FREE_SOCKETS = 64;

const upstreamPort = readPortVariable('BENCH_UPSTREAM_PORT');
const agent = new http.Agent({ keepAlive: true, maxFreeSockets: MAX_FREE_SOCKETS, noDelay: true });
const server = http.createServer((req, res) => {
  const headers = { ...req.headers, host: `127.0.0.1:${upstreamPort}`, authorization: `Bearer ${INJECTED_TOKEN}` };
  // The gateway maps /{app}/{service}/rest to the target URL's path /api/rest, so the baseline does too.
  const path = (req.url ?? '/').replace(/^\/[^/]+\/[^/]+/, '/api');
  const upstream = http.request({ host: '127.0.0.1', port: upstreamPort, path, method: req.method, headers, agent }, (response) => {
    res.writeHead(response.statusCode ?? 502, response.headers);
    response.pipe(res);
  });
  upstream.on('error', () => res.destroy());
  req.pipe(upstream);
});
serveOnLoopback(server, readPortVariable('BENCH_PORT'));
