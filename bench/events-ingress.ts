/**
 * Events ingress against a bare `node:https` + JetStream baseline, in one run.
 *
 * Both servers run as their own processes against one private `nats-server -js` with a file store.
 * Both get the same load: 1 KiB events over mTLS on keep-alive connections, each request with a
 * fresh id, as binary-mode CloudEvents to `/{app}/events` and as legacy events to
 * `/{app}/v1/events`. The baseline (`bench/bare-ingress-server.ts`) publishes the body to JetStream
 * and waits for the PubAck, with no checks at all.
 *
 * Run alone: `node --import tsx bench/events-ingress.ts` (settings in `bench/lib/options.ts`).
 */
import path from 'node:path';
import { parseCommonConfig } from '../shared/config/common.ts';
import { freePort } from '../test/helpers/nats-server.ts';
import { isEntryPoint, runEntryPoint, say } from './lib/entry-point.ts';
import { BENCH_APPLICATION, FerryStack, type ClientTls } from './lib/ferry-stack.ts';
import { compareTargets, formatSample, type CompareOptions, type LoadFigure, type LoadRequest } from './lib/load.ts';
import { readHeapMetrics, type HeapMetrics } from './lib/heap-metrics.ts';
import { residentMemoryMB } from './lib/machine.ts';
import { MemoryPeaks } from './lib/memory-peaks.ts';
import { spawnNode, stopNode, waitForOutput, type NodeProcess } from './lib/node-process.ts';

/** Size of each request body. */
export const BODY_BYTES = 1024;
/** How long the baseline server gets to connect to NATS and listen. */
const BASELINE_READY_TIMEOUT_MS = 30_000;

/** One kind of ingress request: its path under the application and the request it sends. */
export type IngressPayload = { name: 'binary' | 'legacy'; path: string; headers: Record<string, string>; body: string };

/** Pad a JSON object with a `notes` member so that its text is `BODY_BYTES` long. */
function padJson(base: Record<string, unknown>): string {
  const padding = BODY_BYTES - JSON.stringify({ ...base, notes: '' }).length;
  return JSON.stringify({ ...base, notes: 'n'.repeat(padding) });
}

const ORDER = { orderCode: '00012345', customer: 'c-42', currency: 'EUR', total: 129.9 };

/**
 * The two payloads. Both bodies are ASCII, because autocannon's id replacement rewrites the
 * request as UTF-8 text. Legacy events carry no `event-id`, so Ferry generates one per request.
 */
export const INGRESS_PAYLOADS: readonly IngressPayload[] = [
  {
    name: 'binary',
    path: `/${BENCH_APPLICATION}/events`,
    headers: { 'ce-specversion': '1.0', 'ce-id': '[<id>]', 'ce-source': '/bench/orders', 'ce-type': 'order.created.v1', 'content-type': 'application/json' },
    body: padJson(ORDER),
  },
  {
    name: 'legacy',
    path: `/${BENCH_APPLICATION}/v1/events`,
    headers: { 'content-type': 'application/json' },
    body: padJson({ 'event-type': 'order.created', 'event-type-version': 'v1', 'event-time': '2026-01-01T00:00:00Z', data: ORDER }),
  },
];

/** Build the autocannon request of `payload` to every origin in `origins`, over mTLS as the application `bench`. */
export function createIngressRequest(origins: readonly string[], payload: IngressPayload, tls: ClientTls, connections: number): LoadRequest {
  return {
    url: origins.map((origin) => `${origin}${payload.path}`),
    method: 'POST',
    connections,
    idReplacement: true,
    servername: 'localhost',
    tlsOptions: tls,
    headers: payload.headers,
    body: payload.body,
  };
}

/** Start the baseline server as its own process, with the same server certificate and CA as Ferry's external listener. */
export async function startBareIngress(stack: FerryStack, profileDir: string | undefined): Promise<NodeProcess & { origin: string }> {
  const config = parseCommonConfig(stack.env);
  const port = await freePort();
  const env = { NATS_URL: stack.natsUrl, BENCH_PORT: String(port), BENCH_CERT: config.serverCertFile, BENCH_KEY: config.serverKeyFile, BENCH_CA: config.caCertFile };
  const flags = profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${path.resolve(profileDir)}`];
  const node = spawnNode('bench/bare-ingress-server.ts', env, flags);
  await waitForOutput(node, 'ready', BASELINE_READY_TIMEOUT_MS);
  return { ...node, origin: `https://127.0.0.1:${port}` };
}

export type IngressOptions = CompareOptions & { stack: FerryStack; connections: number; profileDir?: string | undefined };

/** Ferry and the baseline for one payload. */
export type IngressComparison = { payload: IngressPayload['name']; ferry: LoadFigure; baseline: LoadFigure };

export type IngressResult = {
  comparisons: IngressComparison[];
  /** Largest RSS of every service process sampled right after each run, in MB (10^6 bytes). */
  memoryMB: Record<string, number>;
  /** Largest RSS of the baseline server, sampled the same way. */
  baselineMemoryMB: number;
  /** Heap of the events service after the last run. */
  heap: HeapMetrics;
};

/** Measure the events service and the baseline for each payload. */
export async function run(options: IngressOptions): Promise<IngressResult> {
  const { stack } = options;
  const events = stack.service('events');
  if (events.externalUrl === undefined) {
    throw new Error('the events service has no external listener');
  }
  const bare = await startBareIngress(stack, options.profileDir);
  try {
    const comparisons: IngressComparison[] = [];
    const memory = new MemoryPeaks();
    const baselineMemory = new MemoryPeaks();
    for (const payload of INGRESS_PAYLOADS) {
      const request = (origin: string): LoadRequest => createIngressRequest([origin], payload, stack.clientTls, options.connections);
      const [ferry, baseline] = await compareTargets(
        [
          { name: 'events', request: request(events.externalUrl), pids: [events.pid], natsPid: stack.natsPid },
          { name: 'baseline', request: request(bare.origin), pids: [bare.pid], natsPid: stack.natsPid },
        ],
        {
          ...options,
          onSample: (target, round, sample) => {
            memory.record(stack.residentMemoryMB());
            baselineMemory.record({ baseline: residentMemoryMB(bare.pid) ?? 0 });
            options.onSample?.(`ingress ${payload.name} ${target}`, round, sample);
          },
        },
      );
      comparisons.push({ payload: payload.name, ferry: ferry!, baseline: baseline! });
    }
    return { comparisons, memoryMB: memory.values, baselineMemoryMB: baselineMemory.values.baseline ?? Number.NaN, heap: await readHeapMetrics(events.internalUrl) };
  } finally {
    await stopNode(bare);
  }
}

if (isEntryPoint(import.meta.url)) {
  runEntryPoint('events-ingress', async (options) => {
    const stack = await FerryStack.start({ services: ['events'], profileDir: options.profileDir });
    try {
      const result = await run({ ...options, stack, onSample: (target, round, sample) => say(`${target} run ${round}: ${formatSample(sample)}`) });
      for (const { payload, ferry, baseline } of result.comparisons) {
        say(`${payload}: events ${formatSample(ferry)}`);
        say(`${payload}: baseline ${formatSample(baseline)}`);
        say(`${payload}: ratio ${(ferry.requestsPerSecond / baseline.requestsPerSecond).toFixed(2)}`);
      }
      say(`RSS MB: ${JSON.stringify(result.memoryMB)}`);
    } finally {
      await stack.stop();
    }
  });
}

