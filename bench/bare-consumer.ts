/**
 * The baseline of the delivery benchmark, as its own process: a bare JetStream pull consumer that
 * POSTs each stored event to the sink as a binary-mode CloudEvent, with at most BENCH_IN_FLIGHT
 * requests at once, and acks on 2xx. No retry policy, no dead letters, no metrics: the floor any
 * delivery pays.
 *
 * Settings come from the environment: NATS_URL, BENCH_CONSUMER (durable consumer on
 * FERRY_EVENTS), BENCH_SINK_URL, BENCH_IN_FLIGHT. Prints `ready` once it consumes.
 */
import http from 'node:http';
import { jetstream, type JsMsg } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { EVENTS_STREAM } from '../shared/nats/names.ts';
import { Semaphore } from '../services/dispatcher/semaphore.ts';

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') {
    throw new Error(`${name} is required`);
  }
  return value;
}

/** POST one stored event in binary mode, the minimum a consumer must do. Resolves with the status. */
function postEvent(agent: http.Agent, url: URL, message: JsMsg): Promise<number> {
  const event = JSON.parse(message.string()) as Record<string, unknown>;
  const body = JSON.stringify(event.data);
  const headers = {
    'ce-specversion': '1.0',
    'ce-id': String(event.id),
    'ce-type': String(event.type),
    'ce-source': String(event.source),
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  };
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function main(): Promise<void> {
  const inFlight = Number(required('BENCH_IN_FLIGHT'));
  const url = new URL(required('BENCH_SINK_URL'));
  const nc = await connect({ servers: required('NATS_URL') });
  const consumer = await jetstream(nc).consumers.get(EVENTS_STREAM, required('BENCH_CONSUMER'));
  const messages = await consumer.consume({ max_messages: inFlight });
  const agent = new http.Agent({ keepAlive: true, maxSockets: inFlight });
  const limiter = new Semaphore(inFlight);
  process.once('SIGTERM', () => {
    agent.destroy();
    void messages.close().then(() => nc.close()).then(() => process.exit(0));
  });
  process.stdout.write('ready\n');

  for await (const message of messages) {
    await limiter.acquire();
    postEvent(agent, url, message)
      .then(
        (status) => (status < 300 ? message.ack() : message.nak()),
        () => message.nak(),
      )
      .finally(() => limiter.release());
  }
}

await main();
