/**
 * Throughput of the events ingress and of the gateway with 1, 2 and 4 processes on this machine.
 * The processes are replicas of the service on their own ports, sharing NATS. The load generator
 * spreads its connections round-robin over the replicas' URLs (connection i goes to replica
 * i mod n), as a layer-4 load balancer spreads connections, so no proxy hop costs CPU. Ingress
 * sends 1 KiB binary-mode CloudEvents over mTLS; the gateway serves GET with OAuth injection.
 */
import type { ServiceName } from '../shared/config/services.ts';
import { createIngressRequest, INGRESS_PAYLOADS } from './events-ingress.ts';
import { createGatewayRequest, ROUTE_READY_TIMEOUT_MS, waitForRoute, type GatewaySetup } from './gateway-proxy.ts';
import type { FerryStack, ServiceProcess } from './lib/ferry-stack.ts';
import { compareTargets, type CompareOptions, type LoadFigure, type LoadTarget } from './lib/load.ts';
import { MemoryPeaks } from './lib/memory-peaks.ts';

export type ScaleOptions = CompareOptions & {
  stack: FerryStack;
  /** The gateway's upstream and registration. */
  gatewaySetup: GatewaySetup;
  connections: number;
  /** Process counts to measure, e.g. [1, 2, 4]. */
  processCounts: readonly number[];
};

export type ScaleRow = { area: 'ingress' | 'gateway'; processes: number; figure: LoadFigure };

export type ScaleResult = {
  rows: ScaleRow[];
  /** Largest RSS of every service process, replicas included, sampled right after each run, in MB (10^6 bytes). */
  memoryMB: Record<string, number>;
};

/** Start replicas of `name` until it runs `count` processes. Returns the ones added. */
async function addReplicas(stack: FerryStack, name: ServiceName, count: number): Promise<ServiceProcess[]> {
  const added: ServiceProcess[] = [];
  while (stack.replicas(name).length < count) {
    added.push(await stack.addReplica(name));
  }
  return added;
}

async function measureArea(
  area: ScaleRow['area'],
  replicas: readonly { process: ServiceProcess; origin: string }[],
  createRequest: (origins: string[]) => LoadTarget['request'],
  options: ScaleOptions,
  memory: MemoryPeaks,
): Promise<ScaleRow[]> {
  const targets = options.processCounts.map((processes): LoadTarget => {
    const used = replicas.slice(0, processes);
    return { name: `${processes} process${processes === 1 ? '' : 'es'}`, request: createRequest(used.map((replica) => replica.origin)), pids: used.map((replica) => replica.process.pid) };
  });
  const figures = await compareTargets(targets, {
    ...options,
    onSample: (target, round, sample) => {
      memory.record(options.stack.residentMemoryMB());
      options.onSample?.(`scale ${area} ${target}`, round, sample);
    },
  });
  return figures.map((figure, index) => ({ area, processes: options.processCounts[index]!, figure }));
}

/** Measure both areas with each process count, then stop the replicas that it added. */
export async function run(options: ScaleOptions): Promise<ScaleResult> {
  const { stack } = options;
  const maxProcesses = Math.max(...options.processCounts);
  const added = [...(await addReplicas(stack, 'events', maxProcesses)), ...(await addReplicas(stack, 'gateway', maxProcesses))];
  try {
    const gateways = stack.replicas('gateway');
    for (const gateway of gateways) {
      await waitForRoute(gateway.internalUrl, ROUTE_READY_TIMEOUT_MS);
    }
    const binary = INGRESS_PAYLOADS.find((payload) => payload.name === 'binary')!;
    const ingressReplicas = stack.replicas('events').map((process) => ({ process, origin: process.externalUrl! }));
    const gatewayReplicas = gateways.map((process) => ({ process, origin: process.internalUrl }));

    const memory = new MemoryPeaks();
    const rows = [
      ...(await measureArea('ingress', ingressReplicas, (origins) => createIngressRequest(origins, binary, stack.clientTls, options.connections), options, memory)),
      ...(await measureArea('gateway', gatewayReplicas, (origins) => createGatewayRequest(origins, options.connections), options, memory)),
    ];
    return { rows, memoryMB: memory.values };
  } finally {
    for (const replica of added) {
      await stack.removeReplica(replica);
    }
  }
}
