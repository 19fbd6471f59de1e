/**
 * The baseline of `bench/events-ingress.ts`: a bare `node:https` server with the same mTLS settings
 * as Ferry's external listener, which publishes each request body to JetStream, waits for the PubAck
 * and responds 204. No validation, no identity check, no metrics: the floor any ingress pays.
 *
 * Settings come from the environment: NATS_URL, BENCH_PORT, BENCH_CERT, BENCH_KEY, BENCH_CA.
 */
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { KEEP_ALIVE_TIMEOUT_MS } from '../shared/http/server.ts';

const SUBJECT = 'ferry.events.bare.order.created.v1';

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') {
    throw new Error(`${name} is required`);
  }
  return value;
}

const nc = await connect({ servers: required('NATS_URL') });
const js = jetstream(nc);

const server = https.createServer(
  {
    cert: readFileSync(required('BENCH_CERT')),
    key: readFileSync(required('BENCH_KEY')),
    ca: readFileSync(required('BENCH_CA')),
    requestCert: true,
    rejectUnauthorized: false,
    minVersion: 'TLSv1.2',
  },
  (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      js.publish(SUBJECT, Buffer.concat(chunks)).then(
        () => {
          res.writeHead(204);
          res.end();
        },
        () => {
          res.writeHead(503);
          res.end();
        },
      );
    });
  },
);
server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
server.listen(Number(required('BENCH_PORT')), '127.0.0.1', () => process.stdout.write('ready\n'));

process.once('SIGTERM', () => {
  server.close();
  void nc.close().then(() => process.exit(0));
});
