/** V8 heap figures of a Ferry service, from prom-client's default metrics on its `/metrics`. */

/** Heap sizes in MB (10^6 bytes), as Node.js reports them for the service's main thread. */
export type HeapMetrics = { heapTotalMB: number; heapUsedMB: number; externalMB: number };

function readGauge(text: string, name: string): number {
  const value = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm').exec(text)?.[1];
  return value === undefined ? Number.NaN : Number(value) / 1e6;
}

/** Read `nodejs_heap_size_total_bytes`, `nodejs_heap_size_used_bytes` and `nodejs_external_memory_bytes`. */
export async function readHeapMetrics(internalUrl: string): Promise<HeapMetrics> {
  const response = await fetch(`${internalUrl}/metrics`);
  const text = await response.text();
  return {
    heapTotalMB: readGauge(text, 'nodejs_heap_size_total_bytes'),
    heapUsedMB: readGauge(text, 'nodejs_heap_size_used_bytes'),
    externalMB: readGauge(text, 'nodejs_external_memory_bytes'),
  };
}
