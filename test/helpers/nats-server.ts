import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { findNatsServer, waitForNats } from '../../scripts/lib/nats-server.ts';

/** Find a free TCP port on the loopback interface. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** A private `nats-server -js` on a free port with its store in a temp directory. */
export class TestNatsServer {
  private child: ChildProcess | undefined;

  private constructor(
    private readonly binary: string,
    readonly port: number,
    readonly storeDir: string,
  ) {}

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  static async start(): Promise<TestNatsServer> {
    const binary = await findNatsServer();
    if (!binary) {
      throw new Error('nats-server is not installed: apt-get install nats-server');
    }
    const storeDir = await mkdtemp(path.join(os.tmpdir(), 'ferry-nats-'));
    const server = new TestNatsServer(binary, await freePort(), storeDir);
    await server.resume();
    return server;
  }

  /** Start the server again on the same port and store, after `pause`. */
  async resume(): Promise<void> {
    this.child = spawn(this.binary, ['-js', '-a', '127.0.0.1', '-p', String(this.port), '-sd', this.storeDir], { stdio: 'ignore' });
    if (!(await waitForNats(this.url, 10_000))) {
      throw new Error(`test nats-server did not start on port ${this.port}`);
    }
  }

  /** Stop the server but keep its store, to simulate an outage. */
  async pause(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) {
      return;
    }
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  }

  /** Delete the stored data while the server is paused, to simulate a lost volume. */
  async wipeStore(): Promise<void> {
    await rm(this.storeDir, { recursive: true, force: true });
  }

  /** Stop the server and delete its store. */
  async stop(): Promise<void> {
    await this.pause();
    await rm(this.storeDir, { recursive: true, force: true });
  }
}
