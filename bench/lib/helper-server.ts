/** Start-up of the benchmark's small HTTP helper processes: target API and reference proxy. */
import type http from 'node:http';
import { KEEP_ALIVE_TIMEOUT_MS } from '../../shared/http/server.ts';

/** Read a port number from the environment variable `name`. */
export function readPortVariable(name: string): number {
  const port = Number(process.env[name]);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new Error(`${name} must be a port number, got '${process.env[name]}'`);
  }
  return port;
}

/**
 * Listen on 127.0.0.1:`port` with Ferry's keep-alive timeout, print `ready` for the parent, and
 * close every connection and exit on SIGTERM.
 */
export function serveOnLoopback(server: http.Server, port: number): void {
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.listen(port, '127.0.0.1', () => process.stdout.write('ready\n'));
  process.once('SIGTERM', () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}
