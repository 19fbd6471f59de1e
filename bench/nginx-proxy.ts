/**
 * nginx as a third reference proxy for the gateway benchmark, when it is installed: one worker
 * process, keep-alive connections to the upstream, and the same fixed bearer token as the bare proxy.
 *
 * NOTE: the machine that recorded docs/benchmarks.md had no nginx, so this path has not run there.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { freePort } from '../test/helpers/nats-server.ts';
import type { NodeProcess } from './lib/node-process.ts';

/** Places searched for the nginx binary: PATH first, then where Debian installs it. */
const NGINX_CANDIDATES = ['nginx', '/usr/sbin/nginx', '/usr/local/sbin/nginx'];
/** How long nginx gets to accept connections. */
const NGINX_READY_TIMEOUT_MS = 10_000;

/** Path of an nginx binary that runs, or undefined. */
export function findNginx(): string | undefined {
  return NGINX_CANDIDATES.find((candidate) => spawnSync(candidate, ['-v'], { stdio: 'ignore' }).status === 0);
}

/** nginx.conf that maps `/{app}/{service}/rest` to `/api/rest` on the upstream, as the gateway does. */
function createConfig(dir: string, port: number, upstreamPort: number): string {
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) => `  ${kind}_temp_path ${path.join(dir, kind)};`).join('\n');
  return `worker_processes 1;
pid ${path.join(dir, 'nginx.pid')};
error_log ${path.join(dir, 'error.log')} warn;
events { worker_connections 4096; }
http {
  access_log off;
${temp}
  upstream target { server 127.0.0.1:${upstreamPort}; keepalive 64; }
  server {
    listen 127.0.0.1:${port};
    keepalive_requests 1000000;
    location ~ ^/[^/]+/[^/]+(/.*)$ {
      proxy_pass http://target/api$1$is_args$args;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Authorization "Bearer bench-token";
    }
  }
}
`;
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.end();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`nginx did not listen on port ${port} within ${timeoutMs} ms`);
}

/** Start nginx in the foreground with its files under `dir`. */
export async function startNginx(binary: string, dir: string, upstreamPort: number): Promise<NodeProcess & { origin: string }> {
  await mkdir(dir, { recursive: true });
  const port = await freePort();
  const configFile = path.join(dir, 'nginx.conf');
  await writeFile(configFile, createConfig(dir, port, upstreamPort));
  const child = spawn(binary, ['-p', dir, '-c', configFile, '-g', 'daemon off;'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  child.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  try {
    await waitForPort(port, NGINX_READY_TIMEOUT_MS);
  } catch (error) {
    child.kill('SIGTERM');
    throw new Error(`nginx did not start: ${output.join('')}`, { cause: error });
  }
  return { child, pid: child.pid ?? 0, output, origin: `http://127.0.0.1:${port}` };
}
