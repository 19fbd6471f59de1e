/**
 * CSR signing latency of the connector: `POST /v1/applications/certificates?token=T` until its 201 response.
 *
 *   node --import tsx bench/connector-signing.ts [--requests 300] [--concurrent-requests 30] [--threads 0,1]
 *
 * The connector runs as its own process (`services/connector/main.ts`) against a private
 * `nats-server -js`, once per value of `--threads` (`FERRY_CONNECTOR_SIGNING_THREADS`: 0 signs on the
 * event loop, N in N worker threads). The client side prepares the CSRs (forge, SHA-256) and mints one token per request
 * through the admin route before timing starts, so only signing requests are timed:
 * - one client sending its requests one after another;
 * - 20 clients at once, each sending its share one after another.
 * Each client keeps one TLS connection open (keep-alive), so the handshake is not part of the figure.
 * A latency is from writing the request to reading the last byte of the 201 answer.
 *
 * It also reports the connector's event-loop delay during each scenario (prom-client's
 * `nodejs_eventloop_lag_*`, reset by each scrape), and, in this process, the synchronous time of one
 * signature (CSR check plus certificate issue): how long one request holds the event loop when the
 * connector signs without workers. Wall time and CPU time are both given, since on a shared machine the
 * wall time also counts waiting for a core.
 */
import https from 'node:https';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import forge from 'node-forge';
import { createCertificateIssuer } from '../services/connector/adapters/certificate-issuer.ts';
import { validateCsr } from '../services/connector/domain/csr.ts';
import { request } from '../test/helpers/http.ts';
import { TestNatsServer } from '../test/helpers/nats-server.ts';
import { createTestPki, type TestPki } from '../test/helpers/pki.ts';
import {
  ApplicationsFixture,
  expectedSubject,
  forgeCsrPem,
  newKeys,
  newToken,
  removeDir,
  spawnConnector,
  stopConnector,
  TEST_SUBJECT,
  toBase64,
  writePkiFiles,
} from '../test/connector/harness.ts';

const APPLICATION = 'bench';
const CONCURRENT_CLIENTS = 20;
const WARMUP_REQUESTS = 20;

type Summary = { requests: number; p50: number; p90: number; p99: number; max: number; throughput: number };

function percentile(sorted: readonly number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * fraction) - 1)]!;
}

function summarize(latenciesMs: number[], wallMs: number): Summary {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  return {
    requests: sorted.length,
    p50: percentile(sorted, 0.5),
    p90: percentile(sorted, 0.9),
    p99: percentile(sorted, 0.99),
    max: sorted.at(-1)!,
    throughput: (sorted.length / wallMs) * 1000,
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

/** Read the connector's event-loop delay gauges, which prom-client resets at each scrape. */
async function scrapeEventLoopLag(internalUrl: string): Promise<{ p99: number; max: number }> {
  const text = (await request(`${internalUrl}/metrics`)).body;
  const read = (name: string): number => Number(new RegExp(`^${name}\\{[^}]*\\} ([0-9.e+-]+)$`, 'm').exec(text)?.[1] ?? NaN) * 1000;
  return { p99: read('nodejs_eventloop_lag_p99_seconds'), max: read('nodejs_eventloop_lag_max_seconds') };
}

async function mintTokens(internalUrl: string, count: number): Promise<string[]> {
  const tokens: string[] = [];
  for (let i = 0; i < count; i++) {
    tokens.push((await newToken(internalUrl, APPLICATION)).token);
  }
  return tokens;
}

async function runScenario(
  name: string,
  clients: number,
  perClient: number,
  context: { internalUrl: string; externalUrl: string; ca: string; bodies: string[] },
): Promise<{ name: string; summary: Summary; lag: { p99: number; max: number } }> {
  const tokens = await mintTokens(context.internalUrl, clients * perClient);
  const agents = Array.from({ length: clients }, () => new https.Agent({ keepAlive: true, maxSockets: 1 }));
  const latencies: number[] = [];

  await scrapeEventLoopLag(context.internalUrl);
  const started = performance.now();
  await Promise.all(
    agents.map(async (agent, client) => {
      for (let i = 0; i < perClient; i++) {
        const token = tokens[client * perClient + i]!;
        const body = context.bodies[(client + i) % context.bodies.length]!;
        latencies.push(await postCsr(agent, context.ca, `${context.externalUrl}/v1/applications/certificates?token=${token}`, body));
      }
    }),
  );
  const wallMs = performance.now() - started;
  const lag = await scrapeEventLoopLag(context.internalUrl);
  for (const agent of agents) agent.destroy();
  return { name, summary: summarize(latencies, wallMs), lag };
}

/** Measure the synchronous time of one signature in this process: how long one request blocks an event loop. */
async function measureSynchronousSigning(pki: TestPki, bodies: string[], iterations: number): Promise<{ wall: Summary; cpu: Summary }> {
  const issuer = createCertificateIssuer({ ca: { ...pki.ca, chainPem: pki.ca.certificatePem }, validityMs: 92 * 24 * 3600 * 1000 });
  const subject = { ...TEST_SUBJECT, CN: APPLICATION };
  const csrs = bodies.map((body) => (JSON.parse(body) as { csr: string }).csr);
  const wall: number[] = [];
  const cpu: number[] = [];
  const started = performance.now();
  for (let i = 0; i < iterations; i++) {
    const begin = performance.now();
    const cpuBegin = process.cpuUsage();
    const csr = validateCsr(csrs[i % csrs.length]!, subject);
    issuer.issue(subject, csr.publicKeyPem);
    const used = process.cpuUsage(cpuBegin);
    wall.push(performance.now() - begin);
    cpu.push((used.user + used.system) / 1000);
    // Let the loop turn, as it would between requests.
    await new Promise((resolve) => setImmediate(resolve));
  }
  const elapsed = performance.now() - started;
  return { wall: summarize(wall.slice(WARMUP_REQUESTS), elapsed), cpu: summarize(cpu.slice(WARMUP_REQUESTS), elapsed) };
}

function format(value: number): string {
  return value.toFixed(1).padStart(7);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      requests: { type: 'string', default: '300' },
      'concurrent-requests': { type: 'string', default: '30' },
      threads: { type: 'string', default: '0,1' },
    },
  });
  const sequentialRequests = Number(values.requests);
  const perClient = Number(values['concurrent-requests']);
  const threadCounts = values.threads.split(',').map(Number);

  const nats = await TestNatsServer.start();
  const pki = await createTestPki();
  const files = await writePkiFiles(pki);
  const rows: string[] = [];
  try {
    const keys = await Promise.all(Array.from({ length: CONCURRENT_CLIENTS }, () => newKeys()));
    const bodies = keys.map((pair) => JSON.stringify({ csr: toBase64(forgeCsrPem(pair, expectedSubject(APPLICATION), { md: forge.md.sha256.create() })) }));

    for (const threads of threadCounts) {
      const connector = await spawnConnector(nats.url, files, { FERRY_CONNECTOR_SIGNING_THREADS: String(threads) });
      const apps = await ApplicationsFixture.connect(nats.url);
      try {
        await apps.create(APPLICATION);
        const context = { internalUrl: connector.internalUrl, externalUrl: connector.externalUrl, ca: pki.ca.certificatePem, bodies };
        await runScenario('warm-up', 1, WARMUP_REQUESTS, context);
        const where = threads === 0 ? 'event loop' : `${threads} worker${threads === 1 ? '' : 's'}`;
        for (const [clients, count] of [
          [1, sequentialRequests],
          [CONCURRENT_CLIENTS, perClient],
        ] as const) {
          const { summary, lag } = await runScenario(`${clients} clients`, clients, count, context);
          const name = `${clients === 1 ? '1 client' : `${clients} clients`}, ${where}`;
          rows.push(
            `${name.padEnd(26)} ${String(summary.requests).padStart(9)} ${format(summary.p50)}  ${format(summary.p90)}  ${format(summary.p99)}  ${format(summary.max)} ${format(summary.throughput)}   ${lag.p99.toFixed(1)}/${lag.max.toFixed(1)}`,
          );
        }
      } finally {
        await apps.close();
        await stopConnector(connector);
      }
    }
    const synchronous = await measureSynchronousSigning(pki, bodies, 300 + WARMUP_REQUESTS);

    process.stdout.write(`CSR signing over HTTPS (keep-alive), connector in its own process, ${new Date().toISOString()}, load average ${loadavg()[0]!.toFixed(1)}\n`);
    process.stdout.write('scenario                    requests   p50 ms   p90 ms   p99 ms   max ms   req/s   loop-lag p99/max ms\n');
    process.stdout.write(`${rows.join('\n')}\n`);
    for (const [label, summary] of [
      ['wall', synchronous.wall],
      ['CPU', synchronous.cpu],
    ] as const) {
      process.stdout.write(
        `one signature on one thread (CSR check + issue), ${label} time: p50 ${summary.p50.toFixed(2)} ms, p99 ${summary.p99.toFixed(2)} ms, max ${summary.max.toFixed(2)} ms over ${summary.requests}\n`,
      );
    }
  } finally {
    await nats.stop();
    await removeDir(files.dir);
  }
}

await main();
