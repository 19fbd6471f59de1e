/**
 * The gateway's hot path against a bare `node:http` keep-alive proxy, in one run: `GET
 * /{app}/{service}/orders/1` with OAuth client credentials injected (the token is cached, so each
 * request gets `Authorization: Bearer …`) to a local upstream that returns a 35-byte JSON body.
 * When nginx is installed, it runs as a third reference. The gateway, the bare proxy
 * (`bench/bare-proxy-server.ts`) and the upstream (`bench/gateway-upstream-server.ts`) each run as
 * their own process. The service is registered through the registry's metadata API over mTLS.
 *
 * Run alone: `node --import tsx bench/gateway-proxy.ts` (settings in `bench/lib/options.ts`).
 * `bench/gateway-proxy.md` records what profiling the gateway found.
 */
import os from 'node:os';
import path from 'node:path';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from '../test/helpers/http.ts';
import { freePort } from '../test/helpers/nats-server.ts';
import { isEntryPoint, runEntryPoint, say } from './lib/entry-point.ts';
import { BENCH_APPLICATION, FerryStack } from './lib/ferry-stack.ts';
import { compareTargets, formatSample, type CompareOptions, type LoadFigure, type LoadRequest, type LoadTarget } from './lib/load.ts';
import { residentMemoryMB } from './lib/machine.ts';
import { MemoryPeaks } from './lib/memory-peaks.ts';
import { spawnNode, stopNode, waitForOutput, type NodeProcess } from './lib/node-process.ts';
import { findNginx, startNginx } from './nginx-proxy.ts';

/** Normalized name of the registered service, the second segment of the gateway path. */
const SERVICE_NAME = 'orders';
/** Path of every load request: application, service, then the path under the target URL. */
export const GATEWAY_PATH = `/${BENCH_APPLICATION}/${SERVICE_NAME}/orders/1`;
/** How long a helper process gets to listen. */
const HELPER_READY_TIMEOUT_MS = 30_000;
/** How long a gateway gets to learn the registered service through its KV watch. */
export const ROUTE_READY_TIMEOUT_MS = 15_000;

async function startHelper(script: string, env: Record<string, string>): Promise<NodeProcess & { port: number }> {
  const port = await freePort();
  const node = spawnNode(script, { ...env, BENCH_PORT: String(port) });
  await waitForOutput(node, 'ready', HELPER_READY_TIMEOUT_MS);
  return { ...node, port };
}

/** Register the upstream as the service `orders` of the application `bench`, with OAuth client credentials. */
async function registerService(stack: FerryStack, upstreamPort: number): Promise<void> {
  const registry = stack.service('registry');
  const origin = `http://127.0.0.1:${upstreamPort}`;
  const body = {
    provider: 'bench',
    name: SERVICE_NAME,
    description: 'target API of the gateway benchmark',
    api: { targetUrl: `${origin}/api`, credentials: { oauth: { url: `${origin}/token`, clientId: 'bench', clientSecret: 'bench-secret' } } },
  };
  const response = await request(`${registry.externalUrl}/${BENCH_APPLICATION}/v1/metadata/services`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    ...stack.clientTls,
  });
  if (response.status !== 200) {
    throw new Error(`registering the gateway target returned ${response.status}: ${response.body}`);
  }
}

/** Wait until `origin` proxies `GATEWAY_PATH` with 200. */
export async function waitForRoute(origin: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const response = await request(`${origin}${GATEWAY_PATH}`).catch((error: Error) => ({ status: 0, body: error.message }));
    if (response.status === 200) {
      return;
    }
    last = `${response.status} ${response.body}`;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${origin}${GATEWAY_PATH} did not return 200 within ${timeoutMs} ms, last: ${last}`);
}

/** Build the autocannon request of the gateway path to every origin in `origins`. */
export function createGatewayRequest(origins: readonly string[], connections: number): LoadRequest {
  return { url: origins.map((origin) => `${origin}${GATEWAY_PATH}`), method: 'GET', connections };
}

/** Upstream and service registration, shared by the comparison and the scale measurement. */
export type GatewaySetup = { upstream: NodeProcess & { port: number }; stop(): Promise<void> };

/** Start the upstream, register it, and wait until the stack's gateway routes to it. */
export async function prepareGateway(stack: FerryStack): Promise<GatewaySetup> {
  const upstream = await startHelper('bench/gateway-upstream-server.ts', {});
  try {
    await registerService(stack, upstream.port);
    await waitForRoute(stack.service('gateway').internalUrl, ROUTE_READY_TIMEOUT_MS);
  } catch (error) {
    await stopNode(upstream);
    throw error;
  }
  return { upstream, stop: () => stopNode(upstream) };
}

export type GatewayOptions = CompareOptions & { stack: FerryStack; setup: GatewaySetup; connections: number };

export type GatewayResult = {
  gateway: LoadFigure;
  baseline: LoadFigure;
  /** Present when nginx is installed. */
  nginx: LoadFigure | undefined;
  /** Largest RSS of every service process sampled right after each run, in MB (10^6 bytes). */
  memoryMB: Record<string, number>;
  /** Largest RSS of the bare proxy, sampled the same way. */
  baselineMemoryMB: number;
};

/** Measure the gateway, the bare proxy and, when installed, nginx. */
export async function run(options: GatewayOptions): Promise<GatewayResult> {
  const { stack, setup } = options;
  const gateway = stack.service('gateway');
  const bare = await startHelper('bench/bare-proxy-server.ts', { BENCH_UPSTREAM_PORT: String(setup.upstream.port) });
  const nginxBinary = findNginx();
  const nginxDir = nginxBinary === undefined ? undefined : await mkdtemp(path.join(os.tmpdir(), 'ferry-bench-nginx-'));
  const nginx = nginxBinary === undefined || nginxDir === undefined ? undefined : await startNginx(nginxBinary, nginxDir, setup.upstream.port);
  try {
    const targets: LoadTarget[] = [
      { name: 'gateway', request: createGatewayRequest([gateway.internalUrl], options.connections), pids: [gateway.pid] },
      { name: 'baseline', request: createGatewayRequest([`http://127.0.0.1:${bare.port}`], options.connections), pids: [bare.pid] },
    ];
    if (nginx) {
      targets.push({ name: 'nginx', request: createGatewayRequest([nginx.origin], options.connections), pids: [nginx.pid] });
    }
    const memory = new MemoryPeaks();
    const baselineMemory = new MemoryPeaks();
    const figures = await compareTargets(targets, {
      ...options,
      onSample: (target, round, sample) => {
        memory.record(stack.residentMemoryMB());
        baselineMemory.record({ baseline: residentMemoryMB(bare.pid) ?? 0 });
        options.onSample?.(`gateway ${target}`, round, sample);
      },
    });
    return { gateway: figures[0]!, baseline: figures[1]!, nginx: figures[2], memoryMB: memory.values, baselineMemoryMB: baselineMemory.values.baseline ?? Number.NaN };
  } finally {
    await stopNode(bare);
    if (nginx) {
      await stopNode(nginx);
    }
    if (nginxDir !== undefined) {
      await rm(nginxDir, { recursive: true, force: true });
    }
  }
}

if (isEntryPoint(import.meta.url)) {
  runEntryPoint('gateway-proxy', async (options) => {
    const stack = await FerryStack.start({ services: ['registry', 'gateway'], profileDir: options.profileDir });
    try {
      const setup = await prepareGateway(stack);
      try {
        const result = await run({ ...options, stack, setup, onSample: (target, round, sample) => say(`${target} run ${round}: ${formatSample(sample)}`) });
        say(`gateway ${formatSample(result.gateway)}`);
        say(`baseline ${formatSample(result.baseline)}`);
        say(result.nginx ? `nginx ${formatSample(result.nginx)}` : 'nginx is not installed');
        say(`ratio gateway/baseline ${(result.gateway.requestsPerSecond / result.baseline.requestsPerSecond).toFixed(2)}`);
        say(`RSS MB: ${JSON.stringify(result.memoryMB)}`);
      } finally {
        await setup.stop();
      }
    } finally {
      await stack.stop();
    }
  });
}
