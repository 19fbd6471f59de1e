import { spawn, type ChildProcess } from 'node:child_process';
import { access, constants, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { connect } from '@nats-io/transport-node';

/** Directories searched for `nats-server` after PATH. Debian installs it in /usr/sbin, which is not on every user's PATH. */
const EXTRA_BINARY_DIRS = ['/usr/sbin', '/usr/local/sbin', '/usr/local/bin'];

/** Find an executable `nats-server`, or return undefined. */
export async function findNatsServer(pathVariable = process.env.PATH ?? ''): Promise<string | undefined> {
  const dirs = [...pathVariable.split(path.delimiter).filter((dir) => dir !== ''), ...EXTRA_BINARY_DIRS];
  for (const dir of dirs) {
    const candidate = path.join(dir, 'nats-server');
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not in this directory.
    }
  }
  return undefined;
}

/** Return true when a NATS server responds at `url` within `timeoutMs`. */
export async function isNatsReachable(url: string, timeoutMs = 2000): Promise<boolean> {
  try {
    const nc = await connect({ servers: url, timeout: timeoutMs, reconnect: false, maxReconnectAttempts: 0 });
    await nc.close();
    return true;
  } catch {
    return false;
  }
}

/** Start `nats-server -js` on the host and port of `url`, storing data under `storeDir`. */
export async function startNatsServer(binary: string, url: string, storeDir: string): Promise<ChildProcess> {
  const { hostname, port } = new URL(url);
  await mkdir(storeDir, { recursive: true });
  return spawn(binary, ['-js', '-a', hostname, '-p', port || '4222', '-sd', storeDir], { stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Wait until NATS responds at `url`, polling every 200 ms. */
export async function waitForNats(url: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await isNatsReachable(url, 500)) {
      return true;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return false;
}
