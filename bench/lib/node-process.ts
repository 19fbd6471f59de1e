/** Node.js child processes of the benchmark: Ferry services, baselines and helpers, run with tsx. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root, the working directory of every child. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** How long a child gets to stop after SIGTERM before it is killed. */
const STOP_TIMEOUT_MS = 10_000;
/** Interval between readiness probes. */
const READY_POLL_INTERVAL_MS = 100;

/** A running child with its collected output, for error messages. */
export type NodeProcess = { child: ChildProcess; pid: number; output: string[] };

/**
 * Start `node --import tsx <script>` from the repository root with `env` added to this process's
 * environment. `nodeFlags` go before the script (for example `--cpu-prof`).
 */
export function spawnNode(script: string, env: Record<string, string>, nodeFlags: readonly string[] = []): NodeProcess {
  const child = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', script], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const keep = (chunk: Buffer): void => {
    output.push(chunk.toString());
    // Only the tail matters for an error message, so a chatty child cannot fill the memory.
    if (output.length > 200) {
      output.splice(0, output.length - 100);
    }
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  if (child.pid === undefined) {
    throw new Error(`failed to start ${script}`);
  }
  return { child, pid: child.pid, output };
}

async function isReady(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await response.body?.cancel();
    return response.status === 200;
  } catch {
    return false;
  }
}

/** Wait until `url` returns 200. Fails when the child exits first or after `timeoutMs`. */
export async function waitForReady(node: NodeProcess, url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (node.child.exitCode !== null) {
      throw new Error(`process ${node.pid} exited with ${node.child.exitCode} before ${url} was ready: ${node.output.join('')}`);
    }
    if (await isReady(url)) {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, READY_POLL_INTERVAL_MS));
  }
  throw new Error(`${url} was not ready within ${timeoutMs} ms: ${node.output.join('')}`);
}

/** Wait until the child prints a line that contains `text`. */
export function waitForOutput(node: NodeProcess, text: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`process ${node.pid} did not print '${text}' within ${timeoutMs} ms: ${node.output.join('')}`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      if (chunk.toString().includes(text)) {
        clearTimeout(timer);
        node.child.stdout?.off('data', onData);
        resolve();
      }
    };
    node.child.stdout?.on('data', onData);
    node.child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`process ${node.pid} exited with ${code} before printing '${text}': ${node.output.join('')}`));
    });
  });
}

/** Stop a child with SIGTERM, then SIGKILL after `STOP_TIMEOUT_MS`, and wait for its exit. */
export async function stopNode(node: NodeProcess): Promise<void> {
  const { child } = node;
  if (child.exitCode !== null || child.signalCode !== null) {
    return;
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  child.kill('SIGTERM');
  await exited;
  clearTimeout(timer);
}
