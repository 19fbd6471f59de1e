/**
 * Settings of `npm run bench` and of the area scripts run alone, read once from the environment.
 * `bench/connector-signing.ts` run alone takes command-line flags instead.
 *
 * | variable | unit | default | meaning |
 * |---|---|---|---|
 * | `BENCH_DURATION_S` | seconds | 5 | length of each measured load run |
 * | `BENCH_WARMUP_S` | seconds | 2 | unmeasured load run per target before the measured runs |
 * | `BENCH_RUNS` | runs | 3 | measured runs per figure, which is their median (at least 3 for a recorded result) |
 * | `BENCH_CONNECTIONS` | connections | 64 | concurrent keep-alive connections of the HTTP load |
 * | `BENCH_DELIVERY_EVENTS` | events | 10000 | backlog that each delivery run drains |
 * | `BENCH_SIGNING_REQUESTS` | requests | 10 | CSR signing requests per client and run |
 * | `BENCH_SCALE_PROCESSES` | processes | 1,2,4 | process counts of the scale measurement |
 * | `BENCH_AREAS` | list | all | subset of ingress, gateway, delivery, pairing, scale |
 * | `BENCH_OUTPUT` | path | docs/benchmarks.md | where `npm run bench` writes its report; `-` writes none |
 * | `BENCH_PROFILE` | path | none | folder for `--cpu-prof` profiles of every service process and of the ingress baseline |
 */
import { ConfigError } from '../../shared/errors/errors.ts';
import { readInteger, readList, readOptionalString, readString, type Env } from '../../shared/config/env.ts';

export const DEFAULT_DURATION_S = 5;
export const DEFAULT_WARMUP_S = 2;
export const DEFAULT_RUNS = 3;
export const DEFAULT_CONNECTIONS = 64;
export const DEFAULT_DELIVERY_EVENTS = 10_000;
export const DEFAULT_SIGNING_REQUESTS_PER_CLIENT = 10;
export const DEFAULT_SCALE_PROCESSES = ['1', '2', '4'];
export const DEFAULT_OUTPUT = 'docs/benchmarks.md';

export const BENCH_AREAS = ['ingress', 'gateway', 'delivery', 'pairing', 'scale'] as const;
export type BenchArea = (typeof BENCH_AREAS)[number];

export type BenchOptions = {
  durationS: number;
  warmupS: number;
  runs: number;
  connections: number;
  deliveryEvents: number;
  signingRequestsPerClient: number;
  scaleProcesses: readonly number[];
  areas: readonly BenchArea[];
  /** Report path, or undefined to write none. */
  output: string | undefined;
  profileDir: string | undefined;
};

function readAreas(env: Env): BenchArea[] {
  const areas = readList(env, 'BENCH_AREAS', BENCH_AREAS);
  for (const area of areas) {
    if (!(BENCH_AREAS as readonly string[]).includes(area)) {
      throw new ConfigError(`BENCH_AREAS must list areas out of ${BENCH_AREAS.join(', ')}, got '${area}'`);
    }
  }
  return areas as BenchArea[];
}

function readProcessCounts(env: Env): number[] {
  return readList(env, 'BENCH_SCALE_PROCESSES', DEFAULT_SCALE_PROCESSES).map((value) => {
    const count = Number(value);
    if (!Number.isInteger(count) || count < 1 || count > 16) {
      throw new ConfigError(`BENCH_SCALE_PROCESSES must list integers from 1 to 16, got '${value}'`);
    }
    return count;
  });
}

/** Parse the BENCH_* variables. Throws `ConfigError` naming the first invalid one. */
export function parseBenchOptions(env: Env): Readonly<BenchOptions> {
  const output = readString(env, 'BENCH_OUTPUT', DEFAULT_OUTPUT);
  return Object.freeze({
    durationS: readInteger(env, 'BENCH_DURATION_S', DEFAULT_DURATION_S, { min: 1, max: 600 }),
    warmupS: readInteger(env, 'BENCH_WARMUP_S', DEFAULT_WARMUP_S, { min: 1, max: 600 }),
    runs: readInteger(env, 'BENCH_RUNS', DEFAULT_RUNS, { min: 1, max: 100 }),
    connections: readInteger(env, 'BENCH_CONNECTIONS', DEFAULT_CONNECTIONS, { min: 1, max: 10_000 }),
    deliveryEvents: readInteger(env, 'BENCH_DELIVERY_EVENTS', DEFAULT_DELIVERY_EVENTS, { min: 100, max: 10_000_000 }),
    signingRequestsPerClient: readInteger(env, 'BENCH_SIGNING_REQUESTS', DEFAULT_SIGNING_REQUESTS_PER_CLIENT, { min: 1, max: 10_000 }),
    scaleProcesses: readProcessCounts(env),
    areas: readAreas(env),
    output: output === '-' ? undefined : output,
    profileDir: readOptionalString(env, 'BENCH_PROFILE'),
  });
}
