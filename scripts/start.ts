/**
 * Start the whole system on one machine: development credentials, NATS when none is reachable, and
 * the six services as separate processes with prefixed log lines. Ctrl-C stops everything it started.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCommonConfig } from '../shared/config/common.ts';
import { SERVICE_NAMES, type ServiceName } from '../shared/config/services.ts';
import { devCredentialPaths, ensureDevCredentials } from '../shared/pki/dev-credentials.ts';
import { runMain } from '../shared/service/main.ts';
import { pipeWithPrefix } from './lib/log-prefix.ts';
import { findNatsServer, isNatsReachable, startNatsServer, waitForNats } from './lib/nats-server.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** How long all services get to report ready before the start counts as failed. */
const READY_TIMEOUT_MS = 30_000;
/** How long children get to stop after SIGTERM before they are killed. */
const STOP_TIMEOUT_MS = 15_000;

type Child = { name: string; process: ChildProcess };

const children: Child[] = [];
let stopping = false;

function say(message: string): void {
  process.stdout.write(`[ferry] ${message}\n`);
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

async function stopAll(exitCode: number): Promise<never> {
  stopping = true;
  const services = children.filter((child) => child.name !== 'nats');
  for (const child of services) {
    child.process.kill('SIGTERM');
  }
  await Promise.all(services.map((child) => waitForExit(child.process, STOP_TIMEOUT_MS)));

  const nats = children.find((child) => child.name === 'nats');
  if (nats) {
    nats.process.kill('SIGTERM');
    await waitForExit(nats.process, STOP_TIMEOUT_MS);
  }
  say(exitCode === 0 ? 'stopped' : 'stopped after a failure');
  process.exit(exitCode);
}

function track(name: string, child: ChildProcess, width: number): void {
  children.push({ name, process: child });
  if (child.stdout) pipeWithPrefix(child.stdout, name, process.stdout, width);
  if (child.stderr) pipeWithPrefix(child.stderr, name, process.stderr, width);
  child.once('exit', (code, signal) => {
    if (!stopping) {
      say(`${name} exited unexpectedly (code ${code ?? 'none'}, signal ${signal ?? 'none'}), stopping everything`);
      void stopAll(1);
    }
  });
}

async function ensureNats(natsUrl: string, dataDir: string, width: number): Promise<void> {
  if (await isNatsReachable(natsUrl)) {
    say(`using NATS at ${natsUrl}`);
    return;
  }

  const binary = await findNatsServer();
  if (!binary) {
    throw new Error(
      `no NATS server responds at ${natsUrl}, and nats-server is not on PATH. Install nats-server 2.9 or later ` +
        '(Debian and Ubuntu: apt-get install nats-server; others: https://github.com/nats-io/nats-server/releases), ' +
        'or set NATS_URL to a NATS server with JetStream enabled.',
    );
  }

  const storeDir = path.join(dataDir, 'nats');
  say(`no NATS server responds at ${natsUrl}, starting ${binary} -js with its store in ${storeDir}`);
  track('nats', await startNatsServer(binary, natsUrl, storeDir), width);
  if (!(await waitForNats(natsUrl, 10_000))) {
    throw new Error(`nats-server did not respond at ${natsUrl} within 10 s. Check its log lines above.`);
  }
}

async function isReady(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) });
    return response.status === 200;
  } catch {
    return false;
  }
}

async function waitForServices(urls: Record<ServiceName, string>): Promise<ServiceName[]> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let pending = [...SERVICE_NAMES];
  while (pending.length > 0 && Date.now() < deadline) {
    const results = await Promise.all(pending.map(async (name) => ((await isReady(urls[name])) ? undefined : name)));
    pending = results.filter((name): name is ServiceName => name !== undefined);
    if (pending.length > 0) {
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
  }
  return pending;
}

runMain('start', async () => {
  const startedAt = Date.now();
  const config = parseCommonConfig(process.env);
  const width = Math.max(...SERVICE_NAMES.map((name) => name.length));

  process.once('SIGINT', () => void stopAll(0));
  process.once('SIGTERM', () => void stopAll(0));

  const created = await ensureDevCredentials(devCredentialPaths(config));
  for (const file of created) {
    say(`created ${path.relative(ROOT, file)}`);
  }

  await ensureNats(config.natsUrl, config.dataDir, width);

  // Local targets, spec servers and sinks run on this machine, so the local setup allows loopback
  // egress unless the environment says otherwise. Deployments keep the deny-by-default policy.
  const serviceEnv = { FERRY_EGRESS_ALLOW_LOOPBACK: 'true', ...process.env };
  if (serviceEnv.FERRY_EGRESS_ALLOW_LOOPBACK === 'true') {
    say('egress to loopback addresses is allowed for this local setup (FERRY_EGRESS_ALLOW_LOOPBACK=true)');
  }

  for (const name of SERVICE_NAMES) {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'services', name, 'main.ts')], {
      cwd: ROOT,
      env: serviceEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    track(name, child, width);
  }

  const notReady = await waitForServices(config.internalUrls);
  if (notReady.length > 0) {
    say(`not ready after ${READY_TIMEOUT_MS / 1000} s: ${notReady.join(', ')}`);
    await stopAll(1);
  }

  const seconds = ((Date.now() - startedAt) / 1000).toFixed(1);
  say(`all services ready in ${seconds} s`);
  say('external (mTLS, for paired systems):');
  say(`  connector   ${config.publicUrls.connector}`);
  say(`  registry    ${config.publicUrls.registry}`);
  say(`  events      ${config.publicUrls.events}`);
  say('internal (admin API, workloads, /healthz /readyz /metrics):');
  for (const name of SERVICE_NAMES) {
    say(`  ${name.padEnd(11)} ${config.internalUrls[name]}`);
  }
  say('admin token: TOKEN=$(npm run --silent admin-token)');
  say('press Ctrl-C to stop');
});
