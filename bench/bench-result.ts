/** Everything one `npm run bench` measured, as the report and the target checks read it. */
import type { ConnectorSigningResult } from './connector-signing.ts';
import type { DeliveryResult } from './dispatcher-delivery.ts';
import type { IngressResult } from './events-ingress.ts';
import type { GatewayResult } from './gateway-proxy.ts';
import type { MachineInfo } from './lib/machine.ts';
import type { BenchOptions } from './lib/options.ts';
import type { RuntimeMemory } from './lib/runtime-memory.ts';
import type { ScaleResult } from './scale.ts';

/** Largest RSS of every service process after the runs of one area, in MB (10^6 bytes), by process label. */
export type MemorySnapshot = { after: string; memoryMB: Record<string, number> };

/** One-minute load averages seen during the run. */
export type LoadAverages = { start: number; end: number; min: number; max: number };

export type BenchResult = {
  machine: MachineInfo;
  options: Readonly<BenchOptions>;
  /** Wall time of the whole run, in seconds. */
  durationS: number;
  loadAverage: LoadAverages;
  ingress: IngressResult | undefined;
  gateway: GatewayResult | undefined;
  delivery: DeliveryResult | undefined;
  pairing: ConnectorSigningResult | undefined;
  scale: ScaleResult | undefined;
  /** RSS of empty Node.js processes, with and without tsx. */
  runtimeMemory: RuntimeMemory;
  /** RSS of every service process before any load. */
  idleMemoryMB: Record<string, number>;
  /** Largest RSS after the runs of each area, in run order. */
  loadedMemory: MemorySnapshot[];
};
