/**
 * CSR signing of the connector: `POST /v1/applications/certificates?token=T` until its 201 response,
 * with the connector as its own process against a private `nats-server -js`. The CSRs (forge,
 * SHA-256, 2048-bit keys) and one token per request, minted through the admin route, are made
 * before timing starts, so only signing requests are timed:
 * - one client sending its requests one after another;
 * - 20 clients at once, each sending its share one after another.
 * Each client keeps one TLS connection open (keep-alive), so the handshake is not part of the
 * figure. A latency is from writing the request to reading the last byte of the 201 response. Each
 * scenario also reports the connector's event-loop delay (prom-client's `nodejs_eventloop_lag_*`,
 * reset by each scrape).
 *
 * Run alone: `node --import tsx bench/connector-signing.ts [--requests 300] [--concurrent-requests 30]
 * [--threads 0,1]`. It measures once per value of `--threads` (`FERRY_CONNECTOR_SIGNING_THREADS`: 0
 * signs on the event loop, N in N worker threads), then the synchronous time of one signature in
 * its own process (CSR check plus certificate issue): how long one request blocks the event loop
 * when the connector signs without workers. Wall time and CPU time are both given, since on a
 * shared machine the wall time also counts waiting for a core.
 */
import https from 'node:https';
import { readFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import forge from 'node-forge';
import { generateRsaKeyPair } from '../shared/pki/certificates.ts';
import { parseConnectorConfig } from '../services/connector/config.ts';
import { createCertificateIssuer } from '../services/connector/adapters/certificate-issuer.ts';
import { validateCsr } from '../services/connector/domain/csr.ts';
import { request } from '../test/helpers/http.ts';
import { forgeCsrPem, toBase64 } from '../test/connector/harness.ts';
import { isEntryPoint, say } from './lib/entry-point.ts';
import { BENCH_APPLICATION, FerryStack } from './lib/ferry-stack.ts';
import { MemoryPeaks } from './lib/memory-peaks.ts';
import { median, percentile } from './lib/stats.ts';

/** Clients of the concurrent scenario. */
export const CONCURRENT_CLIENTS = 20;
/** Unmeasured signing requests before the scenarios. */
const WARMUP_REQUESTS = 20;

/** Latencies in milliseconds, signatures per second, and the connector's event-loop delay. */
export type SigningSummary = { requests: number; p50Ms: number; p90Ms: number; p99Ms: number; maxMs: number; signaturesPerSecond: number; loopLagP99Ms: number; loopLagMaxMs: number };

/** Median of each field over the runs of one scenario, next to the runs themselves. */
export type SigningFigure = SigningSummary & { runs: SigningSummary[] };

type SigningContext = { internalUrl: string; externalUrl: string; adminToken: string; ca: string; bodies: string[] };

function summarize(latenciesMs: number[], wallMs: number): Omit<SigningSummary, 'loopLagP99Ms' | 'loopLagMaxMs'> {
  return {
    requests: latenciesMs.length,
    p50Ms: percentile(latenciesMs, 0.5),
    p90Ms: percentile(latenciesMs, 0.9),
    p99Ms: percentile(latenciesMs, 0.99),
    maxMs: Math.max(...latenciesMs),
    signaturesPerSecond: (latenciesMs.length / wallMs) * 1000,
  };
}

/** POST one CSR over the client's kept-alive connection. Resolves with the latency in milliseconds. */
function postCsr(agent: https.Agent, ca: string, url: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = https.request(url, { method: 'POST', agent, ca, servername: 'localhost', headers: { 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const elapsed = performance.now() - started;
        if (res.statusCode !== 201) {
          reject(new Error(`signing request returned ${res.statusCode}: ${Buffer.concat(chunks).toString()}`));
          return;
        }
        resolve(elapsed);
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Read the connector's event-loop delay gauges in milliseconds, which prom-client resets at each scrape. */
async function scrapeEventLoopLag(internalUrl: string): Promise<{ p99: number; max: number }> {
  const text = (await request(`${internalUrl}/metrics`)).body;
  const read = (name: string): number => Number(new RegExp(`^${name}\\{[^}]*\\} ([0-9.e+-]+)$`, 'm').exec(text)?.[1] ?? NaN) * 1000;
  return { p99: read('nodejs_eventloop_lag_p99_seconds'), max: read('nodejs_eventloop_lag_max_seconds') };
}

/** Mint one-time tokens through `POST /v1/applications/tokens`, one after another. */
async function mintTokens(context: SigningContext, count: number): Promise<string[]> {
  const tokens: string[] = [];
  for (let i = 0; i < count; i++) {
    const response = await request(`${context.internalUrl}/v1/applications/tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${context.adminToken}`, application: BENCH_APPLICATION },
    });
    if (response.status !== 201) {
      throw new Error(`token creation returned ${response.status}: ${response.body}`);
    }
    tokens.push((response.json() as { token: string }).token);
  }
  return tokens;
}

/** `clients` clients at once, each sending `perClient` signing requests one after another. */
async function runScenario(context: SigningContext, clients: number, perClient: number): Promise<SigningSummary> {
  const tokens = await mintTokens(context, clients * perClient);
  const agents = Array.from({ length: clients }, () => new https.Agent({ keepAlive: true, maxSockets: 1 }));
  const latencies: number[] = [];

  await scrapeEventLoopLag(context.internalUrl);
  const started = performance.now();
  await Promise.all(
    agents.map(async (agent, client) => {
      for (let i = 0; i < perClient; i++) {
        const url = `${context.externalUrl}/v1/applications/certificates?token=${tokens[client * perClient + i]!}`;
        latencies.push(await postCsr(agent, context.ca, url, context.bodies[(client + i) % context.bodies.length]!));
      }
    }),
  );
  const wallMs = performance.now() - started;
  const lag = await scrapeEventLoopLag(context.internalUrl);
  for (const agent of agents) {
    agent.destroy();
  }
  return { ...summarize(latencies, wallMs), loopLagP99Ms: lag.p99, loopLagMaxMs: lag.max };
}

function toFigure(runs: SigningSummary[]): SigningFigure {
  const of = (field: keyof SigningSummary): number => median(runs.map((run) => run[field]));
  const fields = ['requests', 'p50Ms', 'p90Ms', 'p99Ms', 'maxMs', 'signaturesPerSecond', 'loopLagP99Ms', 'loopLagMaxMs'] as const;
  return { ...(Object.fromEntries(fields.map((field) => [field, of(field)])) as SigningSummary), runs };
}

/** CSR request bodies for the application `bench`, with the subject that the stack's connector expects. */
async function createCsrBodies(stack: FerryStack, count: number): Promise<string[]> {
  const { subject } = parseConnectorConfig(stack.env);
  const fields = { O: subject.organization, OU: subject.organizationalUnit, L: subject.locality, ST: subject.province, C: subject.country, CN: BENCH_APPLICATION };
  const keys = await Promise.all(Array.from({ length: count }, () => generateRsaKeyPair(2048)));
  return keys.map((pair) => JSON.stringify({ csr: toBase64(forgeCsrPem(pair, fields, { md: forge.md.sha256.create() })) }));
}

export type SigningOptions = {
  stack: FerryStack;
  /** Requests of the one-client scenario, per run. */
  sequentialRequests: number;
  /** Requests per client of the 20-client scenario, per run. */
  requestsPerClient: number;
  runs: number;
  onRun?: (scenario: string, round: number, summary: SigningSummary) => void;
};

export type ConnectorSigningResult = {
  /** Worker threads that sign, from the connector's configuration (0: the event loop signs). */
  signingThreads: number;
  sequential: SigningFigure;
  concurrent: SigningFigure;
  /** Largest RSS of every service process sampled right after each scenario run, in MB (10^6 bytes). */
  memoryMB: Record<string, number>;
};

/** Measure both scenarios `runs` times, interleaved, after a warm-up. */
export async function run(options: SigningOptions): Promise<ConnectorSigningResult> {
  const { stack } = options;
  const connector = stack.service('connector');
  if (connector.externalUrl === undefined) {
    throw new Error('the connector has no external listener');
  }
  const context: SigningContext = {
    internalUrl: connector.internalUrl,
    externalUrl: connector.externalUrl,
    adminToken: stack.adminToken,
    ca: stack.clientTls.ca,
    bodies: await createCsrBodies(stack, CONCURRENT_CLIENTS),
  };

  await runScenario(context, 1, WARMUP_REQUESTS);
  const sequential: SigningSummary[] = [];
  const concurrent: SigningSummary[] = [];
  const memory = new MemoryPeaks();
  for (let round = 1; round <= options.runs; round++) {
    sequential.push(await runScenario(context, 1, options.sequentialRequests));
    memory.record(stack.residentMemoryMB());
    options.onRun?.('1 client', round, sequential.at(-1)!);
    concurrent.push(await runScenario(context, CONCURRENT_CLIENTS, options.requestsPerClient));
    memory.record(stack.residentMemoryMB());
    options.onRun?.(`${CONCURRENT_CLIENTS} clients`, round, concurrent.at(-1)!);
  }
  const { signingThreads } = parseConnectorConfig(stack.env);
  return { signingThreads, sequential: toFigure(sequential), concurrent: toFigure(concurrent), memoryMB: memory.values };
}

/** Time one signature (CSR check and issue) on this process's thread. */
async function measureSynchronousSigning(stack: FerryStack, iterations: number): Promise<{ wall: number[]; cpu: number[] }> {
  const config = parseConnectorConfig(stack.env);
  const ca = { certificatePem: await readFile(config.common.caCertFile, 'utf8'), privateKeyPem: await readFile(config.common.caKeyFile, 'utf8') };
  const issuer = createCertificateIssuer({ ca: { ...ca, chainPem: ca.certificatePem }, validityMs: config.certificateValidityMs });
  const subject = { O: config.subject.organization, OU: config.subject.organizationalUnit, L: config.subject.locality, ST: config.subject.province, C: config.subject.country, CN: BENCH_APPLICATION };
  const csrs = (await createCsrBodies(stack, CONCURRENT_CLIENTS)).map((body) => (JSON.parse(body) as { csr: string }).csr);
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < iterations + WARMUP_REQUESTS; i++) {
    const begin = performance.now();
    const cpuBegin = process.cpuUsage();
    const csr = validateCsr(csrs[i % csrs.length]!, subject);
    issuer.issue(subject, csr.publicKeyPem);
    const used = process.cpuUsage(cpuBegin);
    if (i >= WARMUP_REQUESTS) {
      wall.push(performance.now() - begin);
      cpu.push((used.user + used.system) / 1000);
    }
    // Let the loop turn, as it would between requests.
    await new Promise((resolve) => setImmediate(resolve));
  }
  return { wall, cpu };
}

function formatRow(name: string, figure: SigningSummary): string {
  const cells = [figure.requests, figure.p50Ms, figure.p90Ms, figure.p99Ms, figure.maxMs, figure.signaturesPerSecond].map((value) => value.toFixed(1).padStart(8));
  return `${name.padEnd(26)} ${cells.join(' ')}   ${figure.loopLagP99Ms.toFixed(1)}/${figure.loopLagMaxMs.toFixed(1)}`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      requests: { type: 'string', default: '300' },
      'concurrent-requests': { type: 'string', default: '30' },
      threads: { type: 'string', default: '0,1' },
    },
  });
  const rows: string[] = [];
  let synchronous: { wall: number[]; cpu: number[] } | undefined;
  for (const threads of values.threads.split(',')) {
    const stack = await FerryStack.start({ services: ['connector'], env: { FERRY_CONNECTOR_SIGNING_THREADS: threads } });
    try {
      const result = await run({ stack, sequentialRequests: Number(values.requests), requestsPerClient: Number(values['concurrent-requests']), runs: 1 });
      const where = threads === '0' ? 'event loop' : `${threads} worker${threads === '1' ? '' : 's'}`;
      rows.push(formatRow(`1 client, ${where}`, result.sequential), formatRow(`${CONCURRENT_CLIENTS} clients, ${where}`, result.concurrent));
      synchronous ??= await measureSynchronousSigning(stack, 300);
    } finally {
      await stack.stop();
    }
  }

  say(`CSR signing over HTTPS (keep-alive), connector in its own process, ${new Date().toISOString()}, load average ${loadavg()[0]!.toFixed(1)}`);
  say('scenario                   requests   p50 ms   p90 ms   p99 ms   max ms    req/s   loop-lag p99/max ms');
  for (const row of rows) {
    say(row);
  }
  for (const [label, samples] of Object.entries(synchronous ?? {})) {
    say(`one signature on one thread (CSR check + issue), ${label} time: p50 ${percentile(samples, 0.5).toFixed(2)} ms, p99 ${percentile(samples, 0.99).toFixed(2)} ms, max ${Math.max(...samples).toFixed(2)} ms over ${samples.length}`);
  }
}

if (isEntryPoint(import.meta.url)) {
  await main();
}
