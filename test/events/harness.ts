/**
 * Test harness for the events service: a private nats-server, a throwaway PKI written to a temp
 * directory, the service started in-process on free ports, and helpers to seed KV buckets and read
 * back what the stream stored.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import pino from 'pino';
import { decodeStoredEvent, type DecodedCloudEvent } from '../../shared/events/stored-event.ts';
import { EVENTS_STREAM, KV_BUCKETS } from '../../shared/nats/names.ts';
import { ensureNatsResources } from '../../shared/nats/resources.ts';
import { parseEventsConfig } from '../../services/events/config.ts';
import { startEventsService, type EventsService } from '../../services/events/service.ts';
import { request, type TestRequest, type TestResponse } from '../helpers/http.ts';
import { TestNatsServer } from '../helpers/nats-server.ts';
import { createTestPki, type TestClientCertificate, type TestPki } from '../helpers/pki.ts';

/** One stored message as read back from the events stream. */
export type StoredMessage = {
  seq: number;
  subject: string;
  messageId: string | undefined;
  contentType: string | undefined;
  /** The message body as text. */
  body: string;
  event: DecodedCloudEvent;
};

/** Log lines the service wrote, parsed. */
export class LogSink {
  readonly lines: Record<string, unknown>[] = [];

  write(line: string): void {
    this.lines.push(JSON.parse(line) as Record<string, unknown>);
  }
}

export type Harness = {
  nats: TestNatsServer;
  pki: TestPki;
  service: EventsService;
  /** Test client's connection for seeding and reading NATS. */
  nc: NatsConnection;
  jsm: JetStreamManager;
  logs: LogSink;
  externalUrl: string;
  internalUrl: string;
  /** Send a request to the external port with `client`'s certificate (or none). */
  send(pathname: string, options: TestRequest & { client?: TestClientCertificate | null }): Promise<TestResponse>;
  /** Register an application and issue a client certificate for it. */
  addApplication(name: string): Promise<TestClientCertificate>;
  putSubscription(name: string, record: Record<string, unknown>): Promise<void>;
  revoke(certificate: TestClientCertificate): Promise<void>;
  /** Every message in the events stream, oldest first. */
  storedMessages(): Promise<StoredMessage[]>;
  /** Stop the service, the NATS client and the server, and delete temp files. */
  close(): Promise<void>;
};

export type HarnessOptions = {
  /** Extra environment for the service, such as `FERRY_EVENTS_MAX_BODY_BYTES`. */
  env?: Record<string, string>;
};

async function writePki(pki: TestPki, dir: string): Promise<Record<string, string>> {
  const files = {
    FERRY_CA_CERT: path.join(dir, 'ca.pem'),
    FERRY_CA_KEY: path.join(dir, 'ca.key.pem'),
    FERRY_SERVER_CERT: path.join(dir, 'server.pem'),
    FERRY_SERVER_KEY: path.join(dir, 'server.key.pem'),
  };
  await writeFile(files.FERRY_CA_CERT, pki.ca.certificatePem);
  await writeFile(files.FERRY_CA_KEY, pki.ca.privateKeyPem);
  await writeFile(files.FERRY_SERVER_CERT, pki.server.certificatePem);
  await writeFile(files.FERRY_SERVER_KEY, pki.server.privateKeyPem);
  return files;
}

/** Start nats-server, create the resources, then the events service with `options.env` on top of test defaults. */
export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const nats = await TestNatsServer.start();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ferry-events-'));
  const pki = await createTestPki();
  const env = {
    NATS_URL: nats.url,
    FERRY_CERTS_DIR: dir,
    FERRY_EVENTS_INTERNAL_PORT: '0',
    FERRY_EVENTS_EXTERNAL_PORT: '0',
    FERRY_LOG_LEVEL: 'debug',
    FERRY_SHUTDOWN_TIMEOUT_MS: '2000',
    ...(await writePki(pki, dir)),
    ...options.env,
  };
  const config = parseEventsConfig(env);

  const nc = await connect({ servers: nats.url });
  // The service creates these too; creating them first lets tests seed applications before it starts.
  await ensureNatsResources(nc, { ...config.common.stream, tokenTtlMs: config.common.tokenTtlMs }, pino({ level: 'silent' }));
  const jsm = await jetstreamManager(nc);
  const kvm = new Kvm(nc);
  const applications = await kvm.open(KV_BUCKETS.applications);
  const subscriptions = await kvm.open(KV_BUCKETS.subscriptions);
  const revocations = await kvm.open(KV_BUCKETS.revocations);

  const logs = new LogSink();
  const service = await startEventsService(config, { logDestination: logs, installSignalHandlers: false });
  const externalUrl = `https://127.0.0.1:${service.externalPort}`;
  const internalUrl = `http://127.0.0.1:${service.internalPort}`;

  return {
    nats,
    pki,
    service,
    nc,
    jsm,
    logs,
    externalUrl,
    internalUrl,
    send: (pathname, { client, ...rest }) =>
      request(`${externalUrl}${pathname}`, {
        method: 'POST',
        ca: pki.ca.certificatePem,
        ...(client ? { cert: client.certificatePem, key: client.privateKeyPem } : {}),
        ...rest,
      }),
    async addApplication(name) {
      await applications.put(name, JSON.stringify({ name, createdAt: new Date().toISOString() }));
      await waitUntil(async () => (await request(`${internalUrl}/readyz`)).status === 200);
      const certificate = await pki.issueClient(name);
      // The service learns of the application through its KV watch.
      await waitUntil(async () => (await probeApplication(externalUrl, pki, name, certificate)) !== 403);
      return certificate;
    },
    async putSubscription(name, record) {
      await subscriptions.put(name, JSON.stringify(record));
    },
    async revoke(certificate) {
      await revocations.put(certificate.fingerprint, JSON.stringify({ fingerprint: certificate.fingerprint, revokedAt: new Date().toISOString() }));
    },
    storedMessages: () => readStream(jsm),
    async close() {
      await service.stop();
      await nc.close();
      await nats.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function probeApplication(externalUrl: string, pki: TestPki, name: string, certificate: TestClientCertificate): Promise<number> {
  const response = await request(`${externalUrl}/${name}/v1/events/subscribed`, {
    ca: pki.ca.certificatePem,
    cert: certificate.certificatePem,
    key: certificate.privateKeyPem,
  });
  return response.status;
}

/** Poll `condition` every 50 ms until it holds, failing after `timeoutMs`. */
export async function waitUntil(condition: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) {
      throw new Error(`condition not met within ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Read every message of the events stream by sequence. */
export async function readStream(jsm: JetStreamManager): Promise<StoredMessage[]> {
  const { state } = await jsm.streams.info(EVENTS_STREAM);
  const messages: StoredMessage[] = [];
  if (state.messages === 0) {
    return messages;
  }
  for (let seq = state.first_seq; seq <= state.last_seq; seq++) {
    const message = await jsm.streams.getMessage(EVENTS_STREAM, { seq });
    if (!message) {
      continue;
    }
    messages.push({
      seq,
      subject: message.subject,
      messageId: message.header.get('Nats-Msg-Id') || undefined,
      contentType: message.header.get('Content-Type') || undefined,
      body: Buffer.from(message.data).toString('utf8'),
      event: decodeStoredEvent(message.data),
    });
  }
  return messages;
}

/** Binary-mode headers of a minimal valid event with a fresh id. */
export function binaryHeaders(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    'ce-specversion': '1.0',
    'ce-id': randomUUID(),
    'ce-source': '/commerce/orders',
    'ce-type': 'order.created.v1',
    'content-type': 'application/json',
    ...overrides,
  };
}

/** Create a keep-alive mTLS agent for tests that send many requests. */
export function createClientAgent(pki: TestPki, client: TestClientCertificate, maxSockets: number): https.Agent {
  return new https.Agent({ keepAlive: true, maxSockets, ca: pki.ca.certificatePem, cert: client.certificatePem, key: client.privateKeyPem, servername: 'localhost' });
}
