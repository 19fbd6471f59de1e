/**
 * The targets of `npm run bench` and their check against one run's figures. Ratios are what count,
 * because absolute numbers vary between machines.
 */
import type { BenchResult } from './bench-result.ts';

/** Ingress requests per second, at least this share of the baseline's. */
export const INGRESS_MIN_THROUGHPUT_RATIO = 0.85;
/** Ingress p99 latency, at most this multiple of the baseline's. */
export const INGRESS_MAX_P99_RATIO = 1.5;
/** Gateway requests per second, at least this share of the bare proxy's. */
export const GATEWAY_MIN_THROUGHPUT_RATIO = 0.85;
/** Delivered events per second, at least this share of the bare consumer's. */
export const DELIVERY_MIN_THROUGHPUT_RATIO = 0.8;
/** RSS of any service process under load, at most this many MB (10^6 bytes). */
export const MAX_RSS_UNDER_LOAD_MB = 150;

/** One target: what it compares, the measured value and the limit, both as text, and the verdict. */
export type TargetCheck = { target: string; measured: string; limit: string; pass: boolean };

function ratioCheck(target: string, ratio: number, limit: number, atLeast: boolean): TargetCheck {
  return {
    target,
    measured: `${ratio.toFixed(2)}×`,
    limit: `${atLeast ? '≥' : '≤'} ${limit}×`,
    pass: atLeast ? ratio >= limit : ratio <= limit,
  };
}

/** Largest RSS of each process label over all loads. */
export function maxLoadedMemoryMB(result: BenchResult): Map<string, number> {
  const peaks = new Map<string, number>();
  for (const snapshot of result.loadedMemory) {
    for (const [label, size] of Object.entries(snapshot.memoryMB)) {
      peaks.set(label, Math.max(size, peaks.get(label) ?? 0));
    }
  }
  return peaks;
}

/** Check every target that the run measured, in report order. */
export function checkTargets(result: BenchResult): TargetCheck[] {
  const checks: TargetCheck[] = [];
  for (const { payload, ferry, baseline } of result.ingress?.comparisons ?? []) {
    checks.push(ratioCheck(`ingress ${payload}: req/s vs baseline`, ferry.requestsPerSecond / baseline.requestsPerSecond, INGRESS_MIN_THROUGHPUT_RATIO, true));
    checks.push(ratioCheck(`ingress ${payload}: p99 vs baseline`, ferry.p99Ms / baseline.p99Ms, INGRESS_MAX_P99_RATIO, false));
  }
  if (result.gateway) {
    const { gateway, baseline } = result.gateway;
    checks.push(ratioCheck('gateway: req/s vs bare proxy', gateway.requestsPerSecond / baseline.requestsPerSecond, GATEWAY_MIN_THROUGHPUT_RATIO, true));
  }
  if (result.delivery) {
    checks.push(ratioCheck('delivery: events/s vs bare consumer', result.delivery.dispatcher / result.delivery.baseline, DELIVERY_MIN_THROUGHPUT_RATIO, true));
  }
  for (const [label, size] of maxLoadedMemoryMB(result)) {
    checks.push({ target: `RSS under load: ${label}`, measured: `${size.toFixed(0)} MB`, limit: `≤ ${MAX_RSS_UNDER_LOAD_MB} MB`, pass: size <= MAX_RSS_UNDER_LOAD_MB });
  }
  return checks;
}
