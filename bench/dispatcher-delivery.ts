/**
 * Delivered events per second to a local sink: the dispatcher with `maxInFlightMessages` 64 next to a
 * bare JetStream pull consumer that POSTs to the same sink with the same concurrency, in one run.
 * Each side drains a backlog of EVENTS stored events, and the rate is taken between the first and
 * the last request at the sink. A third phase publishes at a steady rate and reports the latency
 * from the JetStream publish to the sink, p50 and p99.
 *
 * Each side runs ROUNDS times, alternating, and the median rate is reported.
 *
 * Run: node --import tsx bench/dispatcher-delivery.ts [events] [rounds]
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { AckPolicy, DeliverPolicy, jetstreamManager, type JetStreamClient, type JsMsg } from '@nats-io/jetstream';
import { EVENTS_STREAM } from '../shared/nats/names.ts';
import { eventSubject } from '../shared/events/subject.ts';
import { Semaphore } from '../services/dispatcher/semaphore.ts';
import { TestNatsServer } from '../test/helpers/nats-server.ts';
import { callApi, connectClient, startDispatcher, subscriptionBody } from '../test/dispatcher/support.ts';

const EVENTS = Number(process.argv[2] ?? 5000);
const ROUNDS = Number(process.argv[3] ?? 3);
const IN_FLIGHT = 64;
const LATENCY_RATE_PER_SECOND = 200;
const LATENCY_DURATION_MS = 5000;

type Sink = { url: string; count: number; first: number; last: number; latencies: number[]; reset(): void; close(): Promise<void> };

async function startSink(): Promise<Sink> {
  const sink: Sink = {
    url: '',
    count: 0,
    first: 0,
    last: 0,
    latencies: [],
    reset() {
      this.count = 0;
      this.first = 0;
      this.last = 0;
      this.latencies = [];
    },
    close: () => Promise.resolve(),
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const now = performance.timeOrigin + performance.now();
      sink.count++;
      sink.first ||= now;
      sink.last = now;
      const sentAt = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { sentAt: number }).sentAt;
      sink.latencies.push(now - sentAt);
      res.writeHead(204).end();
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  sink.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`;
  sink.close = () => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(() => resolve()));
  };
  return sink;
}

async function publishBacklog(js: JetStreamClient, type: string, count: number, round = 0): Promise<void> {
  const pending: Promise<unknown>[] = [];
  for (let i = 0; i < count; i++) {
    const body = { specversion: '1.0', id: `${type}-${round}-${i}`, type, source: 'commerce', datacontenttype: 'application/json', data: { sentAt: performance.timeOrigin + performance.now(), i } };
    pending.push(js.publish(eventSubject('commerce', type), JSON.stringify(body), { msgID: `${type}-${round}-${i}` }));
    if (pending.length >= 256) {
      await Promise.all(pending.splice(0));
    }
  }
  await Promise.all(pending);
}

async function waitFor(predicate: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) {
      throw new Error('timed out');
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function rateOf(sink: Sink): number {
  return (sink.count - 1) / ((sink.last - sink.first) / 1000);
}

function median(values: number[]): number {
  return percentile(values, 50);
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** POST one stored event in binary mode, the minimum a bare consumer must do. */
function postBare(agent: http.Agent, url: URL, message: JsMsg): Promise<number> {
  const event = JSON.parse(message.string()) as Record<string, unknown>;
  const body = JSON.stringify(event.data);
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: 'POST',
      agent,
      headers: {
        'ce-specversion': '1.0',
        'ce-id': String(event.id),
        'ce-type': String(event.type),
        'ce-source': String(event.source),
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
      },
    }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function runBare(js: JetStreamClient, sink: Sink): Promise<void> {
  const consumer = await js.consumers.get(EVENTS_STREAM, 'bench_bare');
  const messages = await consumer.consume({ max_messages: IN_FLIGHT });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const url = new URL(sink.url);
  const limiter = new Semaphore(IN_FLIGHT);
  void (async () => {
    for await (const message of messages) {
      await limiter.acquire();
      postBare(agent, url, message).then(
        (status) => (status < 300 ? message.ack() : message.nak()),
        () => message.nak(),
      ).finally(() => limiter.release());
    }
  })();
  await waitFor(() => sink.count >= EVENTS, 120_000);
  await messages.close();
  agent.destroy();
}

async function main(): Promise<void> {
  const nats = await TestNatsServer.start();
  const sink = await startSink();
  const { nc, js } = await connectClient(nats.url);
  try {
    // The dispatcher creates the stream. Its subscription then exists while it is stopped.
    const setup = await startDispatcher(nats.url, { FERRY_LOG_LEVEL: 'warn' });
    const created = await callApi(setup.baseUrl, 'POST', '/v1/subscriptions', subscriptionBody('bench', sink.url, {
      types: ['bench.dispatcher.v1'],
      config: { maxInFlightMessages: IN_FLIGHT },
      delivery: { maxDeliver: 10, backoffDelayMs: 100, maxBackoffMs: 1000, timeoutMs: 5000 },
    }));
    if (created.status !== 201) {
      throw new Error(`cannot create the subscription: ${created.body}`);
    }
    await setup.service.stop();

    const jsm = await jetstreamManager(nc);
    await jsm.consumers.add(EVENTS_STREAM, {
      durable_name: 'bench_bare',
      filter_subject: eventSubject('commerce', 'bench.bare.v1'),
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      max_ack_pending: IN_FLIGHT,
      ack_wait: 10_000_000_000,
    });

    // Rounds alternate the two sides, so load from other processes on the machine hits both alike.
    const bareRates: number[] = [];
    const dispatcherRates: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      await publishBacklog(js, 'bench.bare.v1', EVENTS, round);
      await publishBacklog(js, 'bench.dispatcher.v1', EVENTS, round);

      sink.reset();
      await runBare(js, sink);
      bareRates.push(rateOf(sink));

      sink.reset();
      const drain = await startDispatcher(nats.url, { FERRY_LOG_LEVEL: 'warn' });
      await waitFor(() => sink.count >= EVENTS, 120_000);
      dispatcherRates.push(rateOf(sink));
      await drain.service.stop();
    }
    const bareRate = median(bareRates);
    const dispatcherRate = median(dispatcherRates);

    const dispatcher = await startDispatcher(nats.url, { FERRY_LOG_LEVEL: 'warn' });

    sink.reset();
    const started = Date.now();
    let sent = 0;
    while (Date.now() - started < LATENCY_DURATION_MS) {
      const body = { specversion: '1.0', id: `latency-${sent}`, type: 'bench.dispatcher.v1', source: 'commerce', datacontenttype: 'application/json', data: { sentAt: performance.timeOrigin + performance.now() } };
      await js.publish(eventSubject('commerce', 'bench.dispatcher.v1'), JSON.stringify(body), { msgID: `latency-${sent}` });
      sent++;
      await new Promise((resolve) => setTimeout(resolve, 1000 / LATENCY_RATE_PER_SECOND));
    }
    await waitFor(() => sink.count >= sent, 30_000);
    await dispatcher.service.stop();

    const result = {
      events: EVENTS,
      maxInFlightMessages: IN_FLIGHT,
      rounds: ROUNDS,
      dispatcherEventsPerSecond: Math.round(dispatcherRate),
      bareConsumerEventsPerSecond: Math.round(bareRate),
      dispatcherRounds: dispatcherRates.map(Math.round),
      bareConsumerRounds: bareRates.map(Math.round),
      ratio: Number((dispatcherRate / bareRate).toFixed(2)),
      latency: { events: sent, ratePerSecond: LATENCY_RATE_PER_SECOND, p50Ms: Number(percentile(sink.latencies, 50).toFixed(1)), p99Ms: Number(percentile(sink.latencies, 99).toFixed(1)) },
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await nc.close();
    await sink.close();
    await nats.stop();
  }
}

await main();
