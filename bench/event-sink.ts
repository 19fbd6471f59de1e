/**
 * The local sink of the delivery benchmark, in the benchmark's own process. It responds 204 to
 * every POST and counts arrivals with their times. It records the latency of events whose JSON body
 * carries `sentAt` (milliseconds since the epoch, from `performance.timeOrigin + performance.now()`).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KEEP_ALIVE_TIMEOUT_MS } from '../shared/http/server.ts';

/** Milliseconds since the epoch with sub-millisecond resolution, comparable with `sentAt`. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

function readSentAt(body: Buffer): number | undefined {
  try {
    const sentAt = (JSON.parse(body.toString('utf8')) as { sentAt?: unknown }).sentAt;
    return typeof sentAt === 'number' ? sentAt : undefined;
  } catch {
    return undefined;
  }
}

export class EventSink {
  count = 0;
  /** Arrival time of the first and the last event since `reset`, in ms since the epoch. */
  firstAt = 0;
  lastAt = 0;
  /** Milliseconds from `sentAt` to arrival. */
  latenciesMs: number[] = [];

  private constructor(private readonly server: http.Server) {}

  static async start(): Promise<EventSink> {
    const server = http.createServer();
    const sink = new EventSink(server);
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        sink.record(Buffer.concat(chunks));
        res.writeHead(204).end();
      });
    });
    server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return sink;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/events`;
  }

  /** Events per second between the first and the last arrival. */
  get eventsPerSecond(): number {
    return (this.count - 1) / ((this.lastAt - this.firstAt) / 1000);
  }

  reset(): void {
    this.count = 0;
    this.firstAt = 0;
    this.lastAt = 0;
    this.latenciesMs = [];
  }

  /** Wait until `count` events arrived. Fails after `timeoutMs`. */
  async waitForCount(count: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.count < count) {
      if (Date.now() > deadline) {
        throw new Error(`the sink received ${this.count} of ${count} events within ${timeoutMs} ms`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private record(body: Buffer): void {
    const now = nowMs();
    this.count++;
    this.firstAt ||= now;
    this.lastAt = now;
    const sentAt = readSentAt(body);
    if (sentAt !== undefined) {
      this.latenciesMs.push(now - sentAt);
    }
  }
}
