/**
 * Throughput of the events ingress against a bare `node:https` + JetStream baseline, in one run.
 *
 * Both servers run as child processes on this machine, against one private `nats-server -js` with
 * a file store. Both get the same load: 1 KiB binary-mode CloudEvents over mTLS on 64 keep-alive
 * connections, each request with a fresh `ce-id`, for `BENCH_DURATION_S` seconds after a warm-up.
 * Each round measures both servers back to back and alternates their order, so drift hits both. Prints requests/s, p50 and p99
 * latency and the ratio service/baseline for each payload kind.
 *
 * Usage: npm run bench  (BENCH_DURATION_S=5 BENCH_ROUNDS=5 BENCH_CONNECTIONS=64 by default;
 * BENCH_PROFILE=<dir> also writes CPU profiles of both servers into that directory)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import autocannon from 'autocannon';
import pino from 'pino';
import { parseCommonConfig } from '../shared/config/common.ts';
import { KV_BUCKETS } from '../shared/nats/names.ts';
import { ensureNatsResources } from '../shared/nats/resources.ts';
import { createCertificateAuthority, generateRsaKeyPair, issueClientCertificate, issueServerCertificate, DAY_MS } from '../shared/pki/certificates.ts';
import { findNatsServer, startNatsServer, waitForNats } from '../scripts/lib/nats-server.ts';
import { freePort } from '../test/helpers/nats-server.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const APPLICATION = 'bench';
const BODY_BYTES = 1024;
const WARMUP_S = 2;

const settings = {
  durationS: Number(process.env.BENCH_DURATION_S ?? 5),
  rounds: Number(process.env.BENCH_ROUNDS ?? 5),
  connections: Number(process.env.BENCH_CONNECTIONS ?? 64),
};

type Target = { name: 'baseline' | 'events'; url: string; pid: number };
type Payload = { name: string; contentType: string; body: string };
type Sample = {
  target: Target['name'];
  payload: string;
  round: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
  /** CPU time of the server process per completed request, in microseconds. Other load on the machine moves it less than req/s. */
  serverCpuUs: number;
  /** CPU time of nats-server per completed request, in microseconds. */
  natsCpuUs: number;
};

/** Clock ticks per second of /proc/<pid>/stat on Linux. */
const CLOCK_TICKS_PER_SECOND = 100;

/** User plus system CPU time of a process so far, in microseconds, from /proc/<pid>/stat. */
async function cpuTimeUs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may contain spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1_000_000) / CLOCK_TICKS_PER_SECOND;
}

/** 1 KiB bodies. Both are ASCII, because autocannon's id replacement rewrites the request as UTF-8 text. */
const PAYLOADS: Payload[] = [
  { name: 'json', contentType: 'application/json', body: createJsonBody() },
  { name: 'octet-stream', contentType: 'application/octet-stream', body: 'x'.repeat(BODY_BYTES) },
];

function createJsonBody(): string {
  const base = { orderCode: '00012345', customer: 'c-42', currency: 'EUR', total: 129.9, notes: '' };
  const padding = BODY_BYTES - JSON.stringify(base).length;
  return JSON.stringify({ ...base, notes: 'n'.repeat(padding) });
}

function say(message: string): void {
  process.stdout.write(`[bench] ${message}\n`);
}

function spawnChild(args: string[], env: Record<string, string>, nodeFlags: string[] = []): ChildProcess {
  const child = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  // Log lines of the service (warn and above) go to stderr, so that retries and failures show.
  child.stdout?.on('data', (chunk: Buffer) => {
    if (chunk.toString().includes('"level":')) {
      process.stderr.write(chunk);
    }
  });
  return child;
}

async function waitForReady(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).status === 200) {
        return;
      }
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${url} was not ready within ${timeoutMs} ms`);
}

function waitForLine(child: ChildProcess, line: string): Promise<void> {
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes(line)) {
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`child exited with ${code} before printing '${line}'`)));
  });
}

async function load(target: Target, payload: Payload, durationS: number, tls: { cert: string; key: string; ca: string }): Promise<autocannon.Result> {
  return autocannon({
    url: target.url,
    method: 'POST',
    connections: settings.connections,
    duration: durationS,
    idReplacement: true,
    servername: 'localhost',
    tlsOptions: tls,
    headers: {
      'ce-specversion': '1.0',
      'ce-id': '[<id>]',
      'ce-source': '/bench/orders',
      'ce-type': 'order.created.v1',
      'content-type': payload.contentType,
    },
    body: payload.body,
  });
}

async function measure(target: Target, payload: Payload, round: number, natsPid: number, tls: { cert: string; key: string; ca: string }): Promise<Sample> {
  await load(target, payload, WARMUP_S, tls);
  const [serverBefore, natsBefore] = [await cpuTimeUs(target.pid), await cpuTimeUs(natsPid)];
  const result = await load(target, payload, settings.durationS, tls);
  const [serverAfter, natsAfter] = [await cpuTimeUs(target.pid), await cpuTimeUs(natsPid)];
  const answered = Math.max(1, result.requests.total);
  return {
    target: target.name,
    payload: payload.name,
    round,
    requestsPerSecond: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    serverCpuUs: (serverAfter - serverBefore) / answered,
    natsCpuUs: (natsAfter - natsBefore) / answered,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function report(samples: Sample[]): void {
  say('');
  say(`target    payload        round  req/s     p50 ms  p99 ms  non-2xx  errors  server µs/req  nats µs/req`);
  for (const s of samples) {
    say(
      `${s.target.padEnd(9)} ${s.payload.padEnd(14)} ${String(s.round).padEnd(6)} ${s.requestsPerSecond.toFixed(0).padEnd(9)} ` +
        `${String(s.p50Ms).padEnd(7)} ${String(s.p99Ms).padEnd(7)} ${String(s.non2xx).padEnd(8)} ${String(s.errors).padEnd(7)} ` +
        `${s.serverCpuUs.toFixed(0).padEnd(14)} ${s.natsCpuUs.toFixed(0)}`,
    );
  }
  say('');
  for (const payload of PAYLOADS) {
    const of = (target: Target['name']): Sample[] => samples.filter((s) => s.payload === payload.name && s.target === target);
    const events = of('events');
    const baseline = of('baseline');
    // Each round measures both servers back to back, so a round's ratio is the least disturbed by other load.
    const ratios = events.map((sample, index) => sample.requestsPerSecond / baseline[index]!.requestsPerSecond);
    const describe = (runs: Sample[]): string =>
      `${median(runs.map((s) => s.requestsPerSecond)).toFixed(0)} req/s, p50 ${median(runs.map((s) => s.p50Ms))} ms, ` +
      `p99 ${median(runs.map((s) => s.p99Ms))} ms, ${median(runs.map((s) => s.serverCpuUs)).toFixed(0)} µs CPU/req`;
    say(`${payload.name}: events ${describe(events)}; baseline ${describe(baseline)}`);
    say(`${payload.name}: ratio events/baseline per round ${ratios.map((ratio) => ratio.toFixed(2)).join(' ')}, median ${median(ratios).toFixed(2)}`);
  }
}

async function main(): Promise<void> {
  const binary = await findNatsServer();
  if (!binary) {
    throw new Error('nats-server is not installed: apt-get install nats-server');
  }

  const dir = await mkdtemp(path.join(os.tmpdir(), 'ferry-bench-'));
  const children: ChildProcess[] = [];
  try {
    const ca = await createCertificateAuthority('Ferry Bench CA');
    const server = await issueServerCertificate(ca, { dns: ['localhost'], ip: ['127.0.0.1'] });
    const clientKeys = await generateRsaKeyPair(2048);
    const clientCert = issueClientCertificate(ca, { CN: APPLICATION, O: 'Ferry Bench', C: 'DE' }, clientKeys.publicKeyPem, DAY_MS);
    const files = { ca: path.join(dir, 'ca.pem'), cert: path.join(dir, 'server.pem'), key: path.join(dir, 'server.key.pem'), caKey: path.join(dir, 'ca.key.pem') };
    await writeFile(files.ca, ca.certificatePem);
    await writeFile(files.caKey, ca.privateKeyPem);
    await writeFile(files.cert, server.certificatePem);
    await writeFile(files.key, server.privateKeyPem);

    const natsUrl = `nats://127.0.0.1:${await freePort()}`;
    const nats = await startNatsServer(binary, natsUrl, path.join(dir, 'nats'));
    children.push(nats);
    if (!(await waitForNats(natsUrl, 10_000))) {
      throw new Error('nats-server did not start');
    }

    const env = {
      NATS_URL: natsUrl,
      FERRY_CERTS_DIR: dir,
      FERRY_CA_CERT: files.ca,
      FERRY_CA_KEY: files.caKey,
      FERRY_SERVER_CERT: files.cert,
      FERRY_SERVER_KEY: files.key,
      FERRY_LOG_LEVEL: 'warn',
      FERRY_EVENTS_INTERNAL_PORT: String(await freePort()),
      FERRY_EVENTS_EXTERNAL_PORT: String(await freePort()),
    };
    const config = parseCommonConfig(env);
    const nc = await connect({ servers: natsUrl });
    await ensureNatsResources(nc, { ...config.stream, tokenTtlMs: config.tokenTtlMs }, pino({ level: 'silent' }));
    const applications = await new Kvm(nc).open(KV_BUCKETS.applications);
    await applications.put(APPLICATION, JSON.stringify({ name: APPLICATION, createdAt: new Date().toISOString() }));
    await nc.close();

    // BENCH_PROFILE=<dir> writes CPU profiles of both servers there when they stop.
    const profileFlags = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(process.env.BENCH_PROFILE)}`] : [];
    const events = spawnChild(['services/events/main.ts'], env, profileFlags);
    children.push(events);
    await waitForReady(`http://127.0.0.1:${env.FERRY_EVENTS_INTERNAL_PORT}/readyz`, 30_000);

    const barePort = await freePort();
    const bareEnv = { NATS_URL: natsUrl, BENCH_PORT: String(barePort), BENCH_CERT: files.cert, BENCH_KEY: files.key, BENCH_CA: files.ca };
    const bare = spawnChild(['bench/bare-ingress-server.ts'], bareEnv, profileFlags);
    children.push(bare);
    await waitForLine(bare, 'ready');

    const targets: Target[] = [
      { name: 'baseline', url: `https://127.0.0.1:${barePort}/${APPLICATION}/events`, pid: bare.pid! },
      { name: 'events', url: `https://127.0.0.1:${env.FERRY_EVENTS_EXTERNAL_PORT}/${APPLICATION}/events`, pid: events.pid! },
    ];
    const tls = { cert: clientCert, key: clientKeys.privateKeyPem, ca: ca.certificatePem };
    say(`${os.cpus().length} CPUs, node ${process.version}, ${settings.connections} connections, ${settings.durationS} s per run after ${WARMUP_S} s warm-up, ${settings.rounds} rounds`);

    const samples: Sample[] = [];
    for (let round = 1; round <= settings.rounds; round++) {
      for (const payload of PAYLOADS) {
        const order = round % 2 === 1 ? targets : [...targets].reverse();
        for (const target of order) {
          const sample = await measure(target, payload, round, nats.pid!, tls);
          say(
            `round ${round} ${payload.name} ${target.name}: ${sample.requestsPerSecond.toFixed(0)} req/s, p50 ${sample.p50Ms} ms, ` +
              `p99 ${sample.p99Ms} ms, server ${sample.serverCpuUs.toFixed(0)} µs/req, nats ${sample.natsCpuUs.toFixed(0)} µs/req`,
          );
          samples.push(sample);
        }
      }
    }
    report(samples);
  } finally {
    for (const child of children.reverse()) {
      child.kill('SIGTERM');
      await new Promise((resolve) => (child.exitCode !== null ? resolve(undefined) : child.once('exit', resolve)));
    }
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
