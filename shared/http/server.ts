import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';

/** PEM material of an external listener: its own certificate and key, and the CA that client certificates must chain to. */
export type ServerTls = { cert: string; key: string; ca: string };

type RequestListener = http.RequestListener;

/** Keep-alive idle timeout of every listener, longer than the usual 60 s of load balancers in front. */
export const KEEP_ALIVE_TIMEOUT_MS = 65_000;

/** Create the plain HTTP listener for the platform's internal network. */
export function createInternalServer(listener: RequestListener): http.Server {
  const server = http.createServer(listener);
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  return server;
}

/**
 * Create the HTTPS listener for paired systems. A client certificate is requested but not required
 * by the handshake, so token routes work without one and the mTLS routes can answer 401 with a
 * clear JSON message instead of a TLS alert. TLS 1.2 renegotiation is disabled, so a connection keeps
 * the client certificate of its handshake, which lets the identity check parse it once per connection.
 */
export function createExternalServer(listener: RequestListener, tls: ServerTls): https.Server {
  const server = https.createServer(
    {
      cert: tls.cert,
      key: tls.key,
      ca: tls.ca,
      requestCert: true,
      rejectUnauthorized: false,
      minVersion: 'TLSv1.2',
    },
    listener,
  );
  server.on('secureConnection', (socket: TLSSocket) => socket.disableRenegotiation());
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  return server;
}

/** Start listening and resolve with the bound address once the port is open. */
export function listen(server: http.Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve(server.address() as AddressInfo);
    });
  });
}
