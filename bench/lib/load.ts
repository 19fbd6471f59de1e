/**
 * Load runs with autocannon, and the comparison of several targets under the same load. Each
 * target gets one warm-up run. Then each round measures every target once, in alternating order,
 * so that drift and other load on the machine hit all targets alike. Each figure is the median
 * over the rounds.
 */
import autocannon from 'autocannon';
import { cpuTimeUs } from './cpu-time.ts';
import { median } from './stats.ts';

/** Request options of one load run. `url` may list several replicas, which get the connections round-robin. */
export type LoadRequest = Omit<autocannon.Options, 'duration' | 'url'> & { url: string | string[] };

/**
 * A thing under load: what to send, the processes whose CPU time counts as its own, and
 * optionally nats-server, whose CPU time is reported apart.
 */
export type LoadTarget = { name: string; request: LoadRequest; pids: readonly number[]; natsPid?: number };

/** The outcome of one run. Latencies are in milliseconds. */
export type LoadSample = {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  /** Responses outside 2xx. */
  non2xx: number;
  /** Connection errors and timeouts. */
  errors: number;
  /** CPU time of the target's processes per 2xx response, in microseconds. */
  cpuUsPerRequest: number;
  /** CPU time of nats-server per 2xx response, in microseconds, or NaN when not observed. */
  natsCpuUsPerRequest: number;
};

/** Median of each field over the runs of one target, next to the runs themselves. */
export type LoadFigure = LoadSample & { name: string; runs: LoadSample[] };

export type CompareOptions = {
  /** Seconds of each measured run. */
  durationS: number;
  /** Seconds of the unmeasured run that precedes the rounds, per target. */
  warmupS: number;
  /** Measured runs per target. */
  runs: number;
  /** Called after each run, for progress output. */
  onSample?: (target: string, round: number, sample: LoadSample) => void;
};

async function totalCpuUs(pids: readonly number[]): Promise<number> {
  const times = await Promise.all(pids.map((pid) => cpuTimeUs(pid)));
  return times.reduce((sum, time) => sum + time, 0);
}

/** Run autocannon for `durationS` seconds against `target`. */
export async function runLoad(target: LoadTarget, durationS: number): Promise<LoadSample> {
  const natsPids = target.natsPid === undefined ? [] : [target.natsPid];
  const [cpuBefore, natsBefore] = [await totalCpuUs(target.pids), await totalCpuUs(natsPids)];
  // NOTE: @types/autocannon declares `url` as one string, but autocannon 9 takes an array and
  // gives connection i to url[i % length] (lib/run.js), which is how several replicas share a load.
  const result = await autocannon({ ...target.request, url: target.request.url as string, duration: durationS });
  const [cpuAfter, natsAfter] = [await totalCpuUs(target.pids), await totalCpuUs(natsPids)];
  const answered = Math.max(1, result['2xx']);
  return {
    requestsPerSecond: result['2xx'] / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    p999Ms: result.latency.p99_9,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    cpuUsPerRequest: (cpuAfter - cpuBefore) / answered,
    natsCpuUsPerRequest: target.natsPid === undefined ? Number.NaN : (natsAfter - natsBefore) / answered,
  };
}

/** Combine runs into one figure, taking the median of each field. */
export function toFigure(name: string, runs: LoadSample[]): LoadFigure {
  const of = (field: keyof LoadSample): number => median(runs.map((run) => run[field]));
  return {
    name,
    requestsPerSecond: of('requestsPerSecond'),
    p50Ms: of('p50Ms'),
    p99Ms: of('p99Ms'),
    p999Ms: of('p999Ms'),
    non2xx: runs.reduce((sum, run) => sum + run.non2xx, 0),
    errors: runs.reduce((sum, run) => sum + run.errors, 0),
    cpuUsPerRequest: of('cpuUsPerRequest'),
    natsCpuUsPerRequest: of('natsCpuUsPerRequest'),
    runs,
  };
}

/** Measure every target under the same load, interleaved. Returns one figure per target, in input order. */
export async function compareTargets(targets: readonly LoadTarget[], options: CompareOptions): Promise<LoadFigure[]> {
  for (const target of targets) {
    await runLoad(target, options.warmupS);
  }

  const samples = new Map<string, LoadSample[]>(targets.map((target) => [target.name, []]));
  for (let round = 1; round <= options.runs; round++) {
    const order = round % 2 === 1 ? targets : [...targets].reverse();
    for (const target of order) {
      const sample = await runLoad(target, options.durationS);
      samples.get(target.name)!.push(sample);
      options.onSample?.(target.name, round, sample);
    }
  }
  return targets.map((target) => toFigure(target.name, samples.get(target.name)!));
}

/** Format a sample as one line of progress output: requests/s, latencies, failures and CPU per request. */
export function formatSample(sample: LoadSample): string {
  const failures = sample.non2xx + sample.errors > 0 ? `, ${sample.non2xx} non-2xx, ${sample.errors} errors` : '';
  return (
    `${sample.requestsPerSecond.toFixed(0)} req/s, p50 ${sample.p50Ms} ms, p99 ${sample.p99Ms} ms, p99.9 ${sample.p999Ms} ms, ` +
    `${sample.cpuUsPerRequest.toFixed(0)} µs CPU/req${failures}`
  );
}
