/**
 * Delivered events per second to a local sink: the dispatcher with `maxInFlightMessages` 64 next to
 * a bare JetStream pull consumer (`bench/bare-consumer.ts`) that POSTs to the same sink with the same
 * concurrency, each as its own process. Each run drains a backlog of stored events that was
 * published while the side under test was stopped, and the rate is taken at the sink between the
 * first and the last arrival, so start-up is not part of it. Runs alternate the two sides.
 *
 * Then events go through the whole path at a fixed rate, half the maximum: binary-mode CloudEvents
 * over mTLS to the events service, JetStream, the dispatcher and the sink. Each body carries the
 * time its request was built, and the sink reports the latency p50 and p99.
 *
 * Run alone: `node --import tsx bench/dispatcher-delivery.ts` (settings in `bench/lib/options.ts`).
 */
import { randomUUID } from 'node:crypto';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import autocannon from 'autocannon';
import { eventSubject } from '../shared/events/subject.ts';
import { EVENTS_STREAM } from '../shared/nats/names.ts';
import { EventSink, nowMs } from './event-sink.ts';
import { isEntryPoint, runEntryPoint, say } from './lib/entry-point.ts';
import { BENCH_APPLICATION, FerryStack } from './lib/ferry-stack.ts';
import { MemoryPeaks } from './lib/memory-peaks.ts';
import { spawnNode, stopNode, waitForOutput } from './lib/node-process.ts';
import { median, percentile } from './lib/stats.ts';

/** Concurrent deliveries of the subscription and of the bare consumer. */
export const MAX_IN_FLIGHT_MESSAGES = 64;
const DISPATCHER_TYPE = 'bench.delivery.v1';
const BARE_TYPE = 'bench.bare.v1';
const BARE_CONSUMER = 'bench_bare';
const SUBSCRIPTION = 'bench-delivery';
/** Share of the backlog that the warm-up run drains. */
const WARMUP_BACKLOG_SHARE = 0.2;
/** Publishes in flight while a backlog is stored. */
const PUBLISH_BATCH = 256;
/** How long one backlog may take to reach the sink. */
const DRAIN_TIMEOUT_MS = 120_000;
/** Connections of the fixed-rate load through the ingress. */
const LATENCY_CONNECTIONS = 16;
/** How long the bare consumer gets to start consuming. */
const BARE_READY_TIMEOUT_MS = 30_000;

export type DeliveryOptions = {
  stack: FerryStack;
  /** Events in each measured backlog. */
  events: number;
  runs: number;
  /** Seconds of the fixed-rate latency load. */
  durationS: number;
  /** Requests per second that the ingress sustained, when measured. It caps the rate of the latency load. */
  ingressRequestsPerSecond?: number | undefined;
  onRun?: (side: string, round: number, eventsPerSecond: number) => void;
};

export type DeliveryResult = {
  /** Median events per second over the runs. */
  dispatcher: number;
  baseline: number;
  dispatcherRuns: number[];
  baselineRuns: number[];
  /** End-to-end latency from the ingress request to sink arrival, at `ratePerSecond`. */
  latency: { ratePerSecond: number; events: number; p50Ms: number; p99Ms: number; non2xx: number };
  /** Largest RSS of every service process sampled right after each run, in MB (10^6 bytes). */
  memoryMB: Record<string, number>;
};

/** Store `count` events of `type` in the stored form, as the events service writes them. */
async function publishBacklog(js: JetStreamClient, type: string, count: number, round: number): Promise<void> {
  const pending: Promise<unknown>[] = [];
  for (let i = 0; i < count; i++) {
    const id = `${type}-${round}-${i}`;
    const event = { specversion: '1.0', id, type, source: BENCH_APPLICATION, datacontenttype: 'application/json', data: { i } };
    pending.push(js.publish(eventSubject(BENCH_APPLICATION, type), JSON.stringify(event), { msgID: id }));
    if (pending.length >= PUBLISH_BATCH) {
      await Promise.all(pending.splice(0));
    }
  }
  await Promise.all(pending);
}

async function createSubscription(stack: FerryStack, sinkUrl: string): Promise<void> {
  const body = {
    name: SUBSCRIPTION,
    sink: sinkUrl,
    source: BENCH_APPLICATION,
    types: [DISPATCHER_TYPE],
    config: { maxInFlightMessages: MAX_IN_FLIGHT_MESSAGES },
    delivery: { maxDeliver: 10, backoff: 'exponential', backoffDelayMs: 100, maxBackoffMs: 1000, timeoutMs: 5000, deadLetter: true },
  };
  const response = await fetch(`${stack.service('dispatcher').internalUrl}/v1/subscriptions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (response.status !== 201) {
    throw new Error(`creating the subscription returned ${response.status}: ${await response.text()}`);
  }
}

async function createBareConsumer(nc: NatsConnection): Promise<void> {
  const jsm = await jetstreamManager(nc);
  await jsm.consumers.add(EVENTS_STREAM, {
    durable_name: BARE_CONSUMER,
    filter_subject: eventSubject(BENCH_APPLICATION, BARE_TYPE),
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    max_ack_pending: MAX_IN_FLIGHT_MESSAGES,
  });
}

/** Drain a backlog with the bare consumer. Returns events per second. */
async function drainBare(stack: FerryStack, js: JetStreamClient, sink: EventSink, count: number, round: number): Promise<number> {
  await publishBacklog(js, BARE_TYPE, count, round);
  sink.reset();
  const env = { NATS_URL: stack.natsUrl, BENCH_CONSUMER: BARE_CONSUMER, BENCH_SINK_URL: sink.url, BENCH_IN_FLIGHT: String(MAX_IN_FLIGHT_MESSAGES) };
  const consumer = spawnNode('bench/bare-consumer.ts', env);
  try {
    await waitForOutput(consumer, 'ready', BARE_READY_TIMEOUT_MS);
    await sink.waitForCount(count, DRAIN_TIMEOUT_MS);
    return sink.eventsPerSecond;
  } finally {
    await stopNode(consumer);
  }
}

/** Drain a backlog with the dispatcher, stored while it was stopped. Returns events per second. */
async function drainDispatcher(stack: FerryStack, js: JetStreamClient, sink: EventSink, count: number, round: number): Promise<number> {
  await stack.restart('dispatcher', async () => {
    await publishBacklog(js, DISPATCHER_TYPE, count, round);
    sink.reset();
  });
  await sink.waitForCount(count, DRAIN_TIMEOUT_MS);
  return sink.eventsPerSecond;
}

/** Send binary-mode CloudEvents through the ingress at `ratePerSecond` and read the latencies at the sink. */
async function measureLatency(stack: FerryStack, sink: EventSink, ratePerSecond: number, durationS: number): Promise<DeliveryResult['latency']> {
  const events = stack.service('events');
  sink.reset();
  const result = await autocannon({
    url: `${events.externalUrl}/${BENCH_APPLICATION}/events`,
    method: 'POST',
    connections: LATENCY_CONNECTIONS,
    overallRate: ratePerSecond,
    duration: durationS,
    servername: 'localhost',
    tlsOptions: stack.clientTls,
    headers: { 'ce-specversion': '1.0', 'ce-source': '/bench/latency', 'ce-type': DISPATCHER_TYPE, 'content-type': 'application/json' },
    requests: [
      {
        // The time is taken when autocannon builds the request, right before it writes it.
        setupRequest: (request) => ({ ...request, headers: { ...request.headers, 'ce-id': randomUUID() }, body: JSON.stringify({ sentAt: nowMs() }) }),
      },
    ],
  });
  await sink.waitForCount(result['2xx'], DRAIN_TIMEOUT_MS);
  return {
    ratePerSecond,
    events: sink.latenciesMs.length,
    p50Ms: percentile(sink.latenciesMs, 0.5),
    p99Ms: percentile(sink.latenciesMs, 0.99),
    non2xx: result.non2xx + result.errors + result.timeouts,
  };
}

/** Measure delivery throughput of both sides, then the end-to-end latency at half the maximum rate. */
export async function run(options: DeliveryOptions): Promise<DeliveryResult> {
  const { stack } = options;
  const sink = await EventSink.start();
  const nc = await connect({ servers: stack.natsUrl });
  try {
    const js = jetstream(nc);
    await createSubscription(stack, sink.url);
    await createBareConsumer(nc);

    const warmup = Math.max(1, Math.round(options.events * WARMUP_BACKLOG_SHARE));
    await drainBare(stack, js, sink, warmup, 0);
    await drainDispatcher(stack, js, sink, warmup, 0);

    const baselineRuns: number[] = [];
    const dispatcherRuns: number[] = [];
    const memory = new MemoryPeaks();
    for (let round = 1; round <= options.runs; round++) {
      const sides = [
        async () => {
          baselineRuns.push(await drainBare(stack, js, sink, options.events, round));
          options.onRun?.('baseline', round, baselineRuns.at(-1)!);
        },
        async () => {
          dispatcherRuns.push(await drainDispatcher(stack, js, sink, options.events, round));
          memory.record(stack.residentMemoryMB());
          options.onRun?.('dispatcher', round, dispatcherRuns.at(-1)!);
        },
      ];
      for (const side of round % 2 === 1 ? sides : sides.reverse()) {
        await side();
      }
    }
    const dispatcher = median(dispatcherRuns);
    const maxRate = Math.min(dispatcher, options.ingressRequestsPerSecond ?? Number.POSITIVE_INFINITY);
    const latency = await measureLatency(stack, sink, Math.max(1, Math.round(maxRate / 2)), options.durationS);
    memory.record(stack.residentMemoryMB());
    return { dispatcher, baseline: median(baselineRuns), dispatcherRuns, baselineRuns, latency, memoryMB: memory.values };
  } finally {
    await nc.close();
    await sink.close();
  }
}

if (isEntryPoint(import.meta.url)) {
  runEntryPoint('dispatcher-delivery', async (options) => {
    const stack = await FerryStack.start({ services: ['events', 'dispatcher'], profileDir: options.profileDir });
    try {
      const result = await run({
        stack,
        events: options.deliveryEvents,
        runs: options.runs,
        durationS: options.durationS,
        onRun: (side, round, rate) => say(`delivery ${side} run ${round}: ${rate.toFixed(0)} events/s`),
      });
      say(`dispatcher ${result.dispatcher.toFixed(0)} events/s, bare consumer ${result.baseline.toFixed(0)} events/s, ratio ${(result.dispatcher / result.baseline).toFixed(2)}`);
      const { latency } = result;
      say(`ingress to sink at ${latency.ratePerSecond} events/s: p50 ${latency.p50Ms.toFixed(1)} ms, p99 ${latency.p99Ms.toFixed(1)} ms over ${latency.events} events`);
      say(`RSS MB: ${JSON.stringify(result.memoryMB)}`);
    } finally {
      await stack.stop();
    }
  });
}
