/**
 * The target API of the gateway benchmark, as its own process. `GET /api/...` returns a small JSON
 * body when the request carries a bearer token, and 401 otherwise. `POST /token` is an OAuth token
 * endpoint (RFC 6749 §4.4) that grants a fixed token for an hour.
 *
 * Settings come from the environment: BENCH_PORT. Prints `ready` once it listens.
 */
import http from 'node:http';
import { readPortVariable, serveOnLoopback } from './lib/helper-server.ts';

/** Token that the endpoint grants. */
const UPSTREAM_TOKEN = 'bench-token';
/** Lifetime of the granted token, in seconds. */
const TOKEN_EXPIRES_IN_S = 3600;

const API_BODY = JSON.stringify({ ok: true, items: [1, 2, 3] });
const TOKEN_BODY = JSON.stringify({ access_token: UPSTREAM_TOKEN, token_type: 'bearer', expires_in: TOKEN_EXPIRES_IN_S });

function handle(req: http.IncomingMessage, res: http.ServerResponse): void {
  if (req.url === '/token') {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(TOKEN_BODY) });
    res.end(TOKEN_BODY);
    return;
  }
  if (!(req.headers.authorization ?? '').startsWith('Bearer ')) {
    res.writeHead(401);
    res.end();
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(API_BODY) });
  res.end(API_BODY);
}

const server = http.createServer((req, res) => {
  // Read any request body before responding, so that the keep-alive connection stays usable.
  req.resume();
  req.on('end', () => handle(req, res));
});
serveOnLoopback(server, readPortVariable('BENCH_PORT'));
