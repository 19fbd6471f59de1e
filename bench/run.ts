/**
 * `npm run bench`: Ferry's data paths against bare baselines started in the same run, on one
 * private NATS and one set of service processes, then the PASS/FAIL of each target and the report
 * in docs/benchmarks.md. The BENCH_* settings are listed in `bench/lib/options.ts`.
 *
 * Order: idle memory, ingress, gateway, delivery, pairing, scale. Each area records the largest
 * RSS of every service process, sampled right after each of its runs.
 */
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SERVICE_NAMES } from '../shared/config/services.ts';
import { findNatsServer } from '../scripts/lib/nats-server.ts';
import type { BenchResult, LoadAverages, MemorySnapshot } from './bench-result.ts';
import * as pairing from './connector-signing.ts';
import * as delivery from './dispatcher-delivery.ts';
import * as ingress from './events-ingress.ts';
import * as gateway from './gateway-proxy.ts';
import { runEntryPoint, say } from './lib/entry-point.ts';
import { FerryStack } from './lib/ferry-stack.ts';
import { formatSample, type LoadSample } from './lib/load.ts';
import { describeMachine } from './lib/machine.ts';
import { ROOT } from './lib/node-process.ts';
import type { BenchOptions } from './lib/options.ts';
import { measureRuntimeMemory } from './lib/runtime-memory.ts';
import { renderReport } from './report.ts';
import * as scale from './scale.ts';
import { checkTargets } from './targets.ts';

/** Signing requests of the one-client scenario, per run. */
const SEQUENTIAL_SIGNING_REQUESTS = 50;
/** Interval of the load-average samples. */
const LOAD_AVERAGE_INTERVAL_MS = 5000;
/** Time for the services to settle after start-up before the idle RSS is read. */
const IDLE_SETTLE_MS = 3000;

function logSample(target: string, round: number, sample: LoadSample): void {
  say(`${target} run ${round}: ${formatSample(sample)}`);
}

/** Sample the one-minute load average until `stop` is called. */
function watchLoadAverage(): { stop(): LoadAverages } {
  const samples = [os.loadavg()[0]!];
  const timer = setInterval(() => samples.push(os.loadavg()[0]!), LOAD_AVERAGE_INTERVAL_MS);
  return {
    stop() {
      clearInterval(timer);
      samples.push(os.loadavg()[0]!);
      return { start: samples[0]!, end: samples.at(-1)!, min: Math.min(...samples), max: Math.max(...samples) };
    },
  };
}

type AreaResults = Pick<BenchResult, 'ingress' | 'gateway' | 'delivery' | 'pairing' | 'scale' | 'idleMemoryMB' | 'loadedMemory'>;

async function runAreas(stack: FerryStack, options: Readonly<BenchOptions>): Promise<AreaResults> {
  const compare = { durationS: options.durationS, warmupS: options.warmupS, runs: options.runs, onSample: logSample };
  const wants = (area: BenchOptions['areas'][number]): boolean => options.areas.includes(area);
  const loadedMemory: MemorySnapshot[] = [];

  await new Promise((resolve) => setTimeout(resolve, IDLE_SETTLE_MS));
  const idleMemoryMB = stack.residentMemoryMB();
  say(`idle RSS MB: ${JSON.stringify(idleMemoryMB)}`);

  const ingressResult = wants('ingress') ? await ingress.run({ ...compare, stack, connections: options.connections, profileDir: options.profileDir }) : undefined;
  if (ingressResult) loadedMemory.push({ after: 'ingress', memoryMB: ingressResult.memoryMB });

  const gatewaySetup = wants('gateway') || wants('scale') ? await gateway.prepareGateway(stack) : undefined;
  try {
    const gatewayResult = gatewaySetup && wants('gateway') ? await gateway.run({ ...compare, stack, setup: gatewaySetup, connections: options.connections }) : undefined;
    if (gatewayResult) loadedMemory.push({ after: 'gateway', memoryMB: gatewayResult.memoryMB });

    const binary = ingressResult?.comparisons.find((comparison) => comparison.payload === 'binary');
    const deliveryResult = wants('delivery')
      ? await delivery.run({
          stack,
          events: options.deliveryEvents,
          runs: options.runs,
          durationS: options.durationS,
          ingressRequestsPerSecond: binary?.ferry.requestsPerSecond,
          onRun: (side, round, rate) => say(`delivery ${side} run ${round}: ${rate.toFixed(0)} events/s`),
        })
      : undefined;
    if (deliveryResult) loadedMemory.push({ after: 'delivery', memoryMB: deliveryResult.memoryMB });

    const pairingResult = wants('pairing')
      ? await pairing.run({
          stack,
          sequentialRequests: SEQUENTIAL_SIGNING_REQUESTS,
          requestsPerClient: options.signingRequestsPerClient,
          runs: options.runs,
          onRun: (scenario, round, summary) => say(`pairing ${scenario} run ${round}: p50 ${summary.p50Ms.toFixed(1)} ms, p99 ${summary.p99Ms.toFixed(1)} ms, ${summary.signaturesPerSecond.toFixed(1)} signatures/s`),
        })
      : undefined;
    if (pairingResult) loadedMemory.push({ after: 'pairing', memoryMB: pairingResult.memoryMB });

    const scaleResult = gatewaySetup && wants('scale') ? await scale.run({ ...compare, stack, gatewaySetup, connections: options.connections, processCounts: options.scaleProcesses }) : undefined;
    if (scaleResult) loadedMemory.push({ after: 'scale', memoryMB: scaleResult.memoryMB });

    return { ingress: ingressResult, gateway: gatewayResult, delivery: deliveryResult, pairing: pairingResult, scale: scaleResult, idleMemoryMB, loadedMemory };
  } finally {
    await gatewaySetup?.stop();
  }
}

runEntryPoint('bench', async (options) => {
  const started = Date.now();
  const loadAverage = watchLoadAverage();
  const machine = describeMachine((await findNatsServer()) ?? 'nats-server');
  say(`${machine.cpus} cores, ${machine.cpuModel}, Node.js ${machine.node}, ${machine.natsServer}, load average ${os.loadavg()[0]!.toFixed(2)}`);

  const runtimeMemory = await measureRuntimeMemory();
  const stack = await FerryStack.start({ services: SERVICE_NAMES, profileDir: options.profileDir });
  let areas: AreaResults;
  try {
    areas = await runAreas(stack, options);
  } finally {
    await stack.stop();
  }

  const result: BenchResult = { machine, options, durationS: (Date.now() - started) / 1000, loadAverage: loadAverage.stop(), runtimeMemory, ...areas };
  for (const check of checkTargets(result)) {
    say(`${check.pass ? 'PASS' : 'FAIL'} ${check.target}: ${check.measured} (limit ${check.limit})`);
  }
  if (options.output !== undefined) {
    const file = path.resolve(ROOT, options.output);
    await writeFile(file, renderReport(result));
    say(`wrote ${path.relative(ROOT, file)}`);
  }
  say(`done in ${(result.durationS / 60).toFixed(1)} minutes, load average ${result.loadAverage.start.toFixed(2)} at the start, ${result.loadAverage.end.toFixed(2)} at the end`);
});
