import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { issueAdminToken } from '../../shared/auth/issue-admin-token.ts';
import { eventSubject } from '../../shared/events/subject.ts';
import { parseDispatcherConfig } from '../../services/dispatcher/config.ts';
import { startDispatcherService, type DispatcherService } from '../../services/dispatcher/service.ts';
import { request, type TestResponse } from '../helpers/http.ts';

export const ADMIN_SECRET = 'dispatcher-test-secret-0123456789abcdef';

/** Log lines written by a service under test, parsed. */
export class LogCapture extends Writable {
  readonly lines: Record<string, unknown>[] = [];

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim() !== '') {
        this.lines.push(JSON.parse(line) as Record<string, unknown>);
      }
    }
    callback();
  }
}

export function dispatcherEnv(natsUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    NATS_URL: natsUrl,
    FERRY_DISPATCHER_INTERNAL_PORT: '0',
    FERRY_ADMIN_JWT_SECRET: ADMIN_SECRET,
    FERRY_LOG_LEVEL: 'info',
    FERRY_SHUTDOWN_TIMEOUT_MS: '2000',
    ...extra,
  };
}

export async function startDispatcher(natsUrl: string, extra: Record<string, string> = {}): Promise<{ service: DispatcherService; logs: LogCapture; baseUrl: string }> {
  const logs = new LogCapture();
  const service = await startDispatcherService(parseDispatcherConfig(dispatcherEnv(natsUrl, extra)), { installSignalHandlers: false, logDestination: logs });
  return { service, logs, baseUrl: `http://127.0.0.1:${service.internalPort}` };
}

export async function adminToken(roles: string[] = ['admin']): Promise<string> {
  return issueAdminToken(new TextEncoder().encode(ADMIN_SECRET), { roles });
}

/** Call the dispatcher API with an admin token and a JSON body. */
export async function callApi(baseUrl: string, method: string, path: string, body?: unknown, token?: string): Promise<TestResponse> {
  const headers: Record<string, string> = { authorization: `Bearer ${token ?? (await adminToken())}` };
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
  }
  return request(`${baseUrl}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
}

export type ReceivedEvent = { headers: http.IncomingHttpHeaders; body: Buffer; at: number };
export type SinkHandler = (event: ReceivedEvent, res: http.ServerResponse) => void;

/** A local HTTP sink that records every request and responds through a replaceable handler (204 by default). */
export class TestSink {
  readonly received: ReceivedEvent[] = [];
  handler: SinkHandler = (_event, res) => res.writeHead(204).end();
  private readonly server: http.Server;

  private constructor(server: http.Server) {
    this.server = server;
  }

  static async start(port = 0): Promise<TestSink> {
    const server = http.createServer();
    const sink = new TestSink(server);
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const event = { headers: req.headers, body: Buffer.concat(chunks), at: Date.now() };
        sink.received.push(event);
        sink.handler(event, res);
      });
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    return sink;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/events`;
  }

  ids(): string[] {
    return this.received.map((event) => String(event.headers['ce-id']));
  }

  /** Wait until `predicate` holds, polling every 50 ms. Fails after `timeoutMs`. */
  async waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) {
        throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}, sink received ${this.received.length}`);
      }
      await sleep(50);
    }
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A NATS client of the test itself, to publish stored events and read streams. */
export async function connectClient(natsUrl: string): Promise<{ nc: NatsConnection; js: JetStreamClient }> {
  const nc = await connect({ servers: natsUrl, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
  return { nc, js: jetstream(nc) };
}

export type TestEvent = { id: string; type: string; source?: string; data?: unknown; extra?: Record<string, unknown> };

/** Publish an event in the stored form: structured JSON CloudEvent with `Nats-Msg-Id`. */
export async function publishStored(js: JetStreamClient, application: string | undefined, event: TestEvent): Promise<void> {
  const body = {
    specversion: '1.0',
    id: event.id,
    type: event.type,
    source: event.source ?? application ?? 'platform',
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    data: event.data ?? { id: event.id },
    ...event.extra,
  };
  await js.publish(eventSubject(application, event.type), JSON.stringify(body), { msgID: `${application ?? '_platform'}:${event.id}` });
}

/** A subscription body with short timings, for tests. */
export function subscriptionBody(name: string, sink: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name,
    sink,
    source: 'commerce',
    types: ['order.created.v1'],
    config: { maxInFlightMessages: 10 },
    delivery: { maxDeliver: 5, backoff: 'exponential', backoffDelayMs: 200, maxBackoffMs: 2000, timeoutMs: 2000, deadLetter: true },
    ...overrides,
  };
}

/** Read one sample from Prometheus text, matching the metric name and every given label, in any label order. */
export function readMetric(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)\{([^}]*)\} (\S+)$/.exec(line);
    if (!match || match[1] !== name) {
      continue;
    }
    const present = match[2]!;
    if (Object.entries(labels).every(([key, value]) => present.includes(`${key}="${value}"`))) {
      return Number(match[3]);
    }
  }
  return undefined;
}
