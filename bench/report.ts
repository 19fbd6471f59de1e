/**
 * docs/benchmarks.md, written from one run's results: machine, method, targets, one table per area
 * with both figures and their ratio, memory, scale, and the scale-out arithmetic worked out with
 * the figures of the same run.
 */
import type { BenchResult } from './bench-result.ts';
import { CONCURRENT_CLIENTS } from './connector-signing.ts';
import { MAX_IN_FLIGHT_MESSAGES } from './dispatcher-delivery.ts';
import { BODY_BYTES } from './events-ingress.ts';
import type { LoadFigure } from './lib/load.ts';
import { checkTargets, maxLoadedMemoryMB, MAX_RSS_UNDER_LOAD_MB } from './targets.ts';

function fixed(value: number, digits = 0): string {
  return Number.isFinite(value) ? value.toFixed(digits) : 'n/a';
}

/** Render a Markdown table. Columns after the first are right-aligned, for numbers, unless `alignNumbers` is false. */
function table(header: readonly string[], rows: readonly (readonly string[])[], alignNumbers = true): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  const rule = `|${header.map((_, index) => (index === 0 || !alignNumbers ? '---' : '---:')).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

const LOAD_HEADER = ['', 'req/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'CPU µs/req', 'non-2xx + errors', 'req/s of each run'];

function loadRow(name: string, figure: LoadFigure): string[] {
  return [
    name,
    fixed(figure.requestsPerSecond),
    fixed(figure.p50Ms, 1),
    fixed(figure.p99Ms, 1),
    fixed(figure.p999Ms, 1),
    fixed(figure.cpuUsPerRequest),
    String(figure.non2xx + figure.errors),
    figure.runs.map((run) => fixed(run.requestsPerSecond)).join(', '),
  ];
}

function ratioRow(name: string, ferry: LoadFigure, baseline: LoadFigure): string[] {
  const ratio = (a: number, b: number): string => `${fixed(a / b, 2)}×`;
  return [
    name,
    ratio(ferry.requestsPerSecond, baseline.requestsPerSecond),
    ratio(ferry.p50Ms, baseline.p50Ms),
    ratio(ferry.p99Ms, baseline.p99Ms),
    ratio(ferry.p999Ms, baseline.p999Ms),
    ratio(ferry.cpuUsPerRequest, baseline.cpuUsPerRequest),
    '',
    '',
  ];
}

function renderHeader(result: BenchResult): string {
  const { machine, loadAverage, options } = result;
  return `# Benchmarks

Written by \`npm run bench\` (\`bench/run.ts\`) on ${machine.date.slice(0, 16).replace('T', ' ')} UTC. The run took
${fixed(result.durationS / 60, 1)} minutes. Ratios are what count: absolute numbers vary between machines, and on
this machine the load generator shares the two cores with the processes it measures.

## Machine

${table(
  ['', ''],
  [
    ['CPU', `${machine.cpus} cores, ${machine.cpuModel}`],
    ['memory', `${machine.memoryGiB} GiB`],
    ['OS', machine.os],
    ['Node.js', machine.node],
    ['nats-server', machine.natsServer],
    ['load average (1 min)', `${fixed(loadAverage.start, 2)} at the start, ${fixed(loadAverage.end, 2)} at the end, ${fixed(loadAverage.min, 2)} to ${fixed(loadAverage.max, 2)} during the run`],
    ['settings', `${options.durationS} s per run, ${options.runs} runs per figure after a ${options.warmupS} s warm-up, ${options.connections} connections`],
  ],
  false,
)}`;
}

function renderMethod(result: BenchResult): string {
  const { options } = result;
  return `## Method

- One private \`nats-server -js\` on a free loopback port with a temp file store, and every Ferry
  service as its own Node.js process (\`node --import tsx services/<name>/main.ts\`) with log level
  \`warn\`. Each baseline also runs as its own process. The load generator is autocannon in the
  benchmark's process.
- Each figure is the median of ${options.runs} runs of ${options.durationS} s, after one ${options.warmupS} s warm-up run per target.
  Runs of Ferry and of its baseline alternate, and their order flips each round, so drift and
  other load on the machine hit both alike. Latencies are autocannon's, over each run.
- "CPU µs/req" is user plus system CPU time of the measured process per 2xx response, from
  \`/proc/<pid>/stat\`. Other load on the machine moves it less than requests per second.
- Ingress: ${BODY_BYTES}-byte JSON bodies over mTLS (client certificate with CN \`bench\`) on
  ${options.connections} keep-alive connections, each request with a fresh id. Binary-mode CloudEvents go to
  \`POST /bench/events\`, legacy events to \`POST /bench/v1/events\`. The baseline
  (\`bench/bare-ingress-server.ts\`) is \`node:https\` with the same certificate, CA and TLS settings, which
  publishes each body to JetStream with the same client library and responds 204 after the PubAck.
- Gateway: \`GET /bench/orders/orders/1\` on ${options.connections} keep-alive connections. The service
  \`orders\` is registered through the registry's metadata API with OAuth client credentials, so the
  gateway fetches a token once and adds \`Authorization: Bearer …\` to every request. The target
  (\`bench/gateway-upstream-server.ts\`) returns a 35-byte JSON body. The baseline
  (\`bench/bare-proxy-server.ts\`) is a \`node:http\` keep-alive proxy that adds a fixed token. nginx
  runs as a third reference only when it is installed.
- Delivery: each run drains a backlog of ${options.deliveryEvents} stored events to a local sink, published while
  the side under test was stopped. The rate is taken at the sink between the first and the last
  arrival. Ferry's side is the dispatcher with one subscription with \`maxInFlightMessages\` ${MAX_IN_FLIGHT_MESSAGES}. The
  baseline (\`bench/bare-consumer.ts\`) is a JetStream pull consumer that POSTs each event in binary
  mode with at most ${MAX_IN_FLIGHT_MESSAGES} requests in flight. The latency is measured from the moment
  autocannon builds an ingress request to its arrival at the sink, at half the lower of the maximum
  delivery rate and the ingress rate. autocannon sends each second's share of a fixed rate in a burst, which
  raises the p99 above what evenly spaced arrivals would see.
- Pairing: CSRs (2048-bit RSA, SHA-256) and one token per request are made before timing. Each
  client keeps one TLS connection open. "Loop lag" is the connector's own
  \`nodejs_eventloop_lag_*\` over the scenario.
- Memory: RSS from \`/proc/<pid>/status\` of every service process, before any load and right after
  each measured run. Each area's column shows the largest value after its runs.
- Scale: replicas of the service on their own ports. autocannon spreads its connections
  round-robin over their URLs (connection i goes to replica i mod n), as a layer-4 load balancer
  spreads connections, so no proxy hop costs CPU.`;
}

function renderTargets(result: BenchResult): string {
  const rows = checkTargets(result).map((check) => [check.target, check.measured, check.limit, check.pass ? 'PASS' : 'FAIL']);
  return `## Targets\n\n${table(['target', 'measured', 'limit', 'result'], rows, false)}`;
}

function renderIngress(result: BenchResult): string {
  const sections = (result.ingress?.comparisons ?? []).map(({ payload, ferry, baseline }) => {
    const title = payload === 'binary' ? 'Binary-mode CloudEvents' : 'Legacy events';
    return `### ${title}\n\n${table(LOAD_HEADER, [loadRow('events service', ferry), loadRow('baseline', baseline), ratioRow('ratio', ferry, baseline)])}\n\nnats-server CPU per request: ${fixed(ferry.natsCpuUsPerRequest)} µs with the events service, ${fixed(baseline.natsCpuUsPerRequest)} µs with the baseline.`;
  });
  return `## Ingress\n\n${sections.join('\n\n')}`;
}

function renderGateway(result: BenchResult): string {
  const gateway = result.gateway!;
  const rows = [loadRow('gateway', gateway.gateway), loadRow('bare proxy', gateway.baseline)];
  if (gateway.nginx) {
    rows.push(loadRow('nginx', gateway.nginx));
  }
  rows.push(ratioRow('ratio gateway / bare proxy', gateway.gateway, gateway.baseline));
  const nginx = gateway.nginx ? '' : '\n\nnginx is not installed on this machine, so it was not measured.';
  return `## Gateway\n\n${table(LOAD_HEADER, rows)}${nginx}`;
}

function renderDelivery(result: BenchResult): string {
  const delivery = result.delivery!;
  const runs = (values: number[]): string => values.map((value) => fixed(value)).join(', ');
  const rows = [
    ['dispatcher', fixed(delivery.dispatcher), runs(delivery.dispatcherRuns)],
    ['bare consumer', fixed(delivery.baseline), runs(delivery.baselineRuns)],
    ['ratio', `${fixed(delivery.dispatcher / delivery.baseline, 2)}×`, ''],
  ];
  const { latency } = delivery;
  return `## Delivery

${table(['', 'events/s', 'events/s of each run'], rows)}

End to end, from the ingress request to the sink, at ${latency.ratePerSecond} events/s for ${result.options.durationS} s: p50 ${fixed(latency.p50Ms, 1)} ms,
p99 ${fixed(latency.p99Ms, 1)} ms over ${latency.events} events (${latency.non2xx} ingress requests failed).`;
}

function renderPairing(result: BenchResult): string {
  const { sequential, concurrent, signingThreads } = result.pairing!;
  const row = (name: string, figure: typeof sequential): string[] => [
    name,
    fixed(figure.p50Ms, 1),
    fixed(figure.p99Ms, 1),
    fixed(figure.signaturesPerSecond, 1),
    `${fixed(figure.loopLagP99Ms, 1)} / ${fixed(figure.loopLagMaxMs, 1)}`,
    figure.runs.map((run) => fixed(run.signaturesPerSecond, 1)).join(', '),
  ];
  return `## Pairing

CSR signing with the connector's default configuration on this machine: ${signingThreads} signing worker thread${signingThreads === 1 ? '' : 's'}. There is no
baseline, so there is no target.

${table(['', 'p50 ms', 'p99 ms', 'signatures/s', 'loop lag p99 / max ms', 'signatures/s of each run'], [row(`1 client, ${sequential.requests} requests`, sequential), row(`${CONCURRENT_CLIENTS} clients, ${concurrent.requests} requests`, concurrent)])}`;
}

function renderMemory(result: BenchResult): string {
  const labels = [...new Set([...Object.keys(result.idleMemoryMB), ...result.loadedMemory.flatMap((snapshot) => Object.keys(snapshot.memoryMB))])];
  const peaks = maxLoadedMemoryMB(result);
  const rows = labels.map((label) => {
    const peak = peaks.get(label) ?? Number.NaN;
    let verdict = '';
    if (!Number.isNaN(peak)) {
      verdict = peak <= MAX_RSS_UNDER_LOAD_MB ? 'PASS' : 'FAIL';
    }
    return [
      label,
      fixed(result.idleMemoryMB[label] ?? Number.NaN),
      ...result.loadedMemory.map((snapshot) => fixed(snapshot.memoryMB[label] ?? Number.NaN)),
      fixed(peak),
      verdict,
    ];
  });
  const header = ['process', 'idle', ...result.loadedMemory.map((snapshot) => `after ${snapshot.after}`), 'max under load', `≤ ${MAX_RSS_UNDER_LOAD_MB} MB`];
  const { nodeMB, nodeWithTsxMB } = result.runtimeMemory;
  const references = [
    `An empty Node.js process had an RSS of ${fixed(nodeMB)} MB, and ${fixed(nodeWithTsxMB)} MB with \`--import tsx\`, the loader that every`,
    'service runs under here and in the Dockerfile.',
  ];
  if (result.ingress) {
    const { heap, baselineMemoryMB } = result.ingress;
    references.push(
      `After the ingress runs, the events service's main thread had a V8 heap of ${fixed(heap.heapTotalMB)} MB (${fixed(heap.heapUsedMB)} MB used) and`,
      `${fixed(heap.externalMB)} MB of external memory (buffers), from its \`/metrics\`. The bare ingress baseline, also started with`,
      `\`node --import tsx\`, peaked at ${fixed(baselineMemoryMB)} MB under the same load.`,
    );
  }
  if (result.gateway) {
    references.push(`The bare proxy peaked at ${fixed(result.gateway.baselineMemoryMB)} MB under the gateway load.`);
  }
  const notes = `\n\n${references.join('\n')}`;
  return `## Memory\n\nRSS in MB (10^6 bytes). n/a: the process did not run at that point.\n\n${table(header, rows)}${notes}`;
}

function renderScale(result: BenchResult): string {
  const scale = result.scale!;
  const rows = scale.rows.map((row) => {
    const single = scale.rows.find((other) => other.area === row.area && other.processes === 1);
    const speedup = single ? `${fixed(row.figure.requestsPerSecond / single.figure.requestsPerSecond, 2)}×` : 'n/a';
    return [row.area, String(row.processes), fixed(row.figure.requestsPerSecond), speedup, fixed(row.figure.p99Ms, 1), fixed(row.figure.cpuUsPerRequest), row.figure.runs.map((run) => fixed(run.requestsPerSecond)).join(', ')];
  });
  return `## Scale on this machine\n\n${table(['area', 'processes', 'req/s', 'vs 1 process', 'p99 ms', 'CPU µs/req', 'req/s of each run'], rows)}`;
}

function renderScaleOut(result: BenchResult): string {
  const binary = result.ingress?.comparisons.find((comparison) => comparison.payload === 'binary');
  const gateway = result.gateway?.gateway;
  const lines: string[] = ['## Scaling out', ''];
  lines.push(
    'Every service is stateless and keeps its state in NATS, so more throughput means more replicas behind a load',
    'balancer. The estimates below take this run\'s CPU time per request, which depends less on the load on the',
    'machine than requests per second do. They are estimates: they leave out the load balancer, the network and',
    'the kernel\'s share of TLS and TCP.',
    '',
  );
  if (binary) {
    const perCore = 1e6 / binary.ferry.cpuUsPerRequest;
    const natsPerCore = 1e6 / binary.ferry.natsCpuUsPerRequest;
    lines.push(
      `- **Ingress replicas.** One events process used ${fixed(binary.ferry.cpuUsPerRequest)} µs of CPU per binary event, so one core`,
      `  serves about ${fixed(perCore)} events/s, and n replicas on n free cores about n × ${fixed(perCore)}. TLS record`,
      '  encryption and HTTP parsing are part of that time, and new connections add a 2048-bit RSA handshake each,',
      '  which is why clients should keep connections open.',
      `- **JetStream.** nats-server used ${fixed(binary.ferry.natsCpuUsPerRequest)} µs of CPU per stored event (file store, one replica), about`,
      `  ${fixed(natsPerCore)} events/s per core. All events go to one stream, and a stream has one leader that`,
      '  orders and writes every message, so adding NATS nodes does not raise the write rate of that stream. The',
      '  stream leader\'s CPU and its disk\'s synchronous write rate are the first limits when ingress replicas are',
      '  added. Splitting the events over several streams by subject, each with its own leader, would lift that limit.',
      '- **3-node NATS cluster, replicas = 3** (`FERRY_NATS_REPLICAS=3`). Each event is written on all three',
      '  nodes. The leader sends it to both followers and answers the PubAck once one follower has stored it',
      '  (a majority of 2 of 3), so every ingress request waits for one more round trip between nodes plus a',
      '  follower\'s write, and the cluster stores each byte three times. Throughput per stream stays bounded by',
      '  the leader, which now also sends each event twice, so expect a lower rate per stream than with one',
      '  replica. The ingress holds one request per connection while it waits, so keeping the rate needs',
      '  concurrent connections ≈ rate × PubAck latency (Little\'s law).',
    );
  }
  if (gateway) {
    const perCore = 1e6 / gateway.cpuUsPerRequest;
    lines.push(
      `- **Gateway replicas.** One gateway process used ${fixed(gateway.cpuUsPerRequest)} µs of CPU per proxied request, about`,
      `  ${fixed(perCore)} requests/s per core, so n replicas on n cores serve about n × ${fixed(perCore)} while the target keeps up.`,
      '  With a slow target, latency comes first: each request holds a connection to the target until it is',
      '  answered, so the rate is at most concurrent requests ÷ target latency (Little\'s law). 64 concurrent callers',
      '  of a target that takes 50 ms get at most 1280 requests/s, whatever the gateway\'s CPU.',
    );
  }
  if (result.delivery) {
    lines.push(
      `- **Delivery.** One subscription with \`maxInFlightMessages\` ${MAX_IN_FLIGHT_MESSAGES} delivered ${fixed(result.delivery.dispatcher)} events/s here. Dispatcher`,
      '  replicas bind to the same durable consumer and share its events, and the consumer\'s `max_ack_pending`',
      '  caps the events in flight across all replicas, so with a slow sink the rate is at most',
      `  ${MAX_IN_FLIGHT_MESSAGES} ÷ sink latency. Raising \`maxInFlightMessages\` raises that cap.`,
    );
  }
  if (result.scale) {
    lines.push(
      '',
      `On this ${result.machine.cpus}-core machine, the scale table shows where the cores run out: the load generator, nats-server`,
      'and the replicas share them, so more processes than cores add little or lose throughput.',
    );
  }
  return lines.join('\n');
}

/** Render the whole report as Markdown. */
export function renderReport(result: BenchResult): string {
  const sections = [renderHeader(result), renderMethod(result), renderTargets(result)];
  if (result.ingress) sections.push(renderIngress(result));
  if (result.gateway) sections.push(renderGateway(result));
  if (result.delivery) sections.push(renderDelivery(result));
  if (result.pairing) sections.push(renderPairing(result));
  sections.push(renderMemory(result));
  if (result.scale) sections.push(renderScale(result));
  sections.push(renderScaleOut(result));
  return `${sections.join('\n\n')}\n`;
}
