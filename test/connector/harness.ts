/** Test harness of the connector: PKI files, a running connector, applications, admin tokens and CSRs. */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Kvm } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import forge from 'node-forge';
import { issueAdminToken } from '../../shared/auth/issue-admin-token.ts';
import type { Env } from '../../shared/config/env.ts';
import { KV_BUCKETS } from '../../shared/nats/names.ts';
import { generateRsaKeyPair, type KeyPairPem } from '../../shared/pki/certificates.ts';
import { parseConnectorConfig, type ConnectorConfig } from '../../services/connector/config.ts';
import { startConnector, type RunningConnector } from '../../services/connector/connector.ts';
import { request, type TestRequest, type TestResponse } from '../helpers/http.ts';
import { freePort } from '../helpers/nats-server.ts';
import type { TestPki } from '../helpers/pki.ts';

export const execFileAsync = promisify(execFile);

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export const ADMIN_SECRET = 'connector-test-secret-that-is-longer-than-32-bytes';

/** Subject configured in the tests, so that nothing passes by matching a default. */
export const TEST_SUBJECT = { O: 'Ferry Test Org', OU: 'Pairing', L: 'Walldorf', ST: 'Baden', C: 'NL' } as const;

/** PEM files of a test PKI in a temp directory, as the connector reads them. */
export type PkiFiles = { dir: string; caCert: string; caKey: string; serverCert: string; serverKey: string };

export async function writePkiFiles(pki: TestPki): Promise<PkiFiles> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ferry-connector-'));
  const files = {
    dir,
    caCert: path.join(dir, 'ca.pem'),
    caKey: path.join(dir, 'ca.key.pem'),
    serverCert: path.join(dir, 'server.pem'),
    serverKey: path.join(dir, 'server.key.pem'),
  };
  await writeFile(files.caCert, pki.ca.certificatePem);
  await writeFile(files.caKey, pki.ca.privateKeyPem);
  await writeFile(files.serverCert, pki.server.certificatePem);
  await writeFile(files.serverKey, pki.server.privateKeyPem);
  return files;
}

/** Environment of a connector on the given ports, sharing the NATS at `natsUrl`. */
export function connectorEnv(natsUrl: string, files: PkiFiles, ports: { internal: number; external: number }, extra: Env = {}): Record<string, string> {
  return {
    NATS_URL: natsUrl,
    FERRY_LOG_LEVEL: 'silent',
    FERRY_CA_CERT: files.caCert,
    FERRY_CA_KEY: files.caKey,
    FERRY_SERVER_CERT: files.serverCert,
    FERRY_SERVER_KEY: files.serverKey,
    FERRY_ADMIN_JWT_SECRET: ADMIN_SECRET,
    FERRY_CONNECTOR_INTERNAL_PORT: String(ports.internal),
    FERRY_CONNECTOR_EXTERNAL_PORT: String(ports.external),
    FERRY_CONNECTOR_PUBLIC_URL: `https://127.0.0.1:${ports.external}`,
    FERRY_REGISTRY_PUBLIC_URL: 'https://registry.ferry.test:8444',
    FERRY_EVENTS_PUBLIC_URL: 'https://events.ferry.test',
    FERRY_CERT_SUBJECT_ORGANIZATION: TEST_SUBJECT.O,
    FERRY_CERT_SUBJECT_ORGANIZATIONAL_UNIT: TEST_SUBJECT.OU,
    FERRY_CERT_SUBJECT_LOCALITY: TEST_SUBJECT.L,
    FERRY_CERT_SUBJECT_PROVINCE: TEST_SUBJECT.ST,
    FERRY_CERT_SUBJECT_COUNTRY: TEST_SUBJECT.C,
    ...Object.fromEntries(Object.entries(extra).filter((entry): entry is [string, string] => entry[1] !== undefined)),
  };
}

/** A connector running in this process, with a clock whose offset tests may move. */
export type TestConnector = RunningConnector & {
  config: Readonly<ConnectorConfig>;
  env: Record<string, string>;
  /** Milliseconds added to the real clock. */
  clock: { offsetMs: number };
  internalUrl: string;
  externalUrl: string;
};

export async function startTestConnector(natsUrl: string, files: PkiFiles, extra: Env = {}): Promise<TestConnector> {
  const env = connectorEnv(natsUrl, files, { internal: 0, external: await freePort() }, extra);
  const config = parseConnectorConfig(env);
  const clock = { offsetMs: 0 };
  const running = await startConnector(config, { installSignalHandlers: false, now: () => Date.now() + clock.offsetMs });
  return {
    ...running,
    config,
    env,
    clock,
    internalUrl: `http://127.0.0.1:${running.internalPort}`,
    externalUrl: `https://127.0.0.1:${running.externalPort}`,
  };
}

/** A connector started as its own process with `node --import tsx services/connector/main.ts`. */
export type ConnectorProcess = { child: ChildProcess; internalUrl: string; externalUrl: string; output: string[] };

/** Start a connector process on free ports and wait until its `/readyz` returns 200. */
export async function spawnConnector(natsUrl: string, files: PkiFiles, extra: Env = {}): Promise<ConnectorProcess> {
  const ports = { internal: await freePort(), external: await freePort() };
  const env = { ...process.env, ...connectorEnv(natsUrl, files, ports, { FERRY_LOG_LEVEL: 'warn', ...extra }) };
  const child = spawn(process.execPath, ['--import', 'tsx', 'services/connector/main.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  child.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));

  const connector = { child, internalUrl: `http://127.0.0.1:${ports.internal}`, externalUrl: `https://127.0.0.1:${ports.external}`, output };
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`connector exited with ${child.exitCode}: ${output.join('')}`);
    }
    const ready = await request(`${connector.internalUrl}/readyz`, { timeoutMs: 1000 }).catch(() => undefined);
    if (ready?.status === 200) {
      return connector;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`connector did not become ready: ${output.join('')}`);
}

/** Stop a connector process with SIGTERM and wait for it to exit. */
export async function stopConnector(connector: ConnectorProcess | undefined): Promise<void> {
  if (!connector || connector.child.exitCode !== null) {
    return;
  }
  const exited = new Promise((resolve) => connector.child.once('exit', resolve));
  connector.child.kill('SIGTERM');
  await exited;
}

/** The applications bucket, written the way the registry writes it. */
export class ApplicationsFixture {
  private constructor(private readonly nc: NatsConnection) {}

  static async connect(natsUrl: string): Promise<ApplicationsFixture> {
    return new ApplicationsFixture(await connect({ servers: natsUrl }));
  }

  async kv(bucket: string = KV_BUCKETS.applications) {
    return new Kvm(this.nc).open(bucket);
  }

  async create(name: string): Promise<void> {
    const kv = await this.kv();
    await kv.put(name, JSON.stringify({ name, description: `${name} for tests`, labels: {}, createdAt: new Date().toISOString() }));
  }

  async remove(name: string): Promise<void> {
    await (await this.kv()).delete(name);
  }

  async close(): Promise<void> {
    await this.nc.close();
  }
}

export async function adminToken(roles: readonly string[] = ['admin']): Promise<string> {
  return issueAdminToken(new TextEncoder().encode(ADMIN_SECRET), { roles });
}

/** `POST /v1/applications/tokens` as an admin. */
export async function createPairingToken(internalUrl: string, application: string): Promise<TestResponse> {
  return request(`${internalUrl}/v1/applications/tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await adminToken()}`, application },
  });
}

/** Like `createPairingToken`, but returns the token and fails the test on any other status than 201. */
export async function newToken(internalUrl: string, application: string): Promise<{ url: string; token: string }> {
  const response = await createPairingToken(internalUrl, application);
  if (response.status !== 201) {
    throw new Error(`token creation answered ${response.status}: ${response.body}`);
  }
  return response.json() as { url: string; token: string };
}

/** Send JSON over TLS, trusting the test CA. */
export function postJson(url: string, body: unknown, options: TestRequest = {}): Promise<TestResponse> {
  return request(url, {
    method: 'POST',
    ...options,
    headers: { 'content-type': 'application/json', ...options.headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

export type SubjectSpec = Readonly<Record<string, string>>;

/** Return the full subject that a connector configured with `TEST_SUBJECT` expects for `application`. */
export function expectedSubject(application: string): SubjectSpec {
  return { ...TEST_SUBJECT, CN: application };
}

/** Make a CSR with node-forge, which signs with SHA-1 by default, as old clients do. */
export function forgeCsrPem(
  keys: KeyPairPem,
  subject: SubjectSpec,
  options: { md?: forge.md.MessageDigest; attributes?: forge.pki.CertificateField[]; label?: string } = {},
): string {
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = forge.pki.publicKeyFromPem(keys.publicKeyPem);
  csr.setSubject(Object.entries(subject).map(([shortName, value]) => ({ shortName, value })));
  if (options.attributes) {
    csr.setAttributes(options.attributes);
  }
  csr.sign(forge.pki.privateKeyFromPem(keys.privateKeyPem), options.md);
  const pem = forge.pki.certificationRequestToPem(csr);
  return options.label === undefined ? pem : pem.replaceAll('CERTIFICATE REQUEST', options.label);
}

/** Make a key and CSR with the `openssl req` CLI in `dir`. Returns both PEMs. */
export async function opensslCsr(
  dir: string,
  subject: SubjectSpec,
  options: { keyArgs?: readonly string[]; digest?: string } = {},
): Promise<{ keyPem: string; csrPem: string }> {
  const base = path.join(dir, `openssl-${Math.random().toString(36).slice(2)}`);
  const subj = Object.entries(subject)
    .map(([name, value]) => `/${name}=${value}`)
    .join('');
  await execFileAsync('openssl', [
    'req', '-new', ...(options.keyArgs ?? ['-newkey', 'rsa:2048']), '-nodes', `-${options.digest ?? 'sha256'}`,
    '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', subj,
  ]);
  return { keyPem: await readFile(`${base}.key`, 'utf8'), csrPem: await readFile(`${base}.csr`, 'utf8') };
}

export function toBase64(text: string | Buffer): string {
  return Buffer.from(text).toString('base64');
}

export function fromBase64(text: unknown): string {
  if (typeof text !== 'string') {
    throw new Error(`expected a base64 string, got ${typeof text}`);
  }
  return Buffer.from(text, 'base64').toString('utf8');
}

/** Generate an RSA-2048 key pair with OpenSSL in the thread pool. */
export function newKeys(): Promise<KeyPairPem> {
  return generateRsaKeyPair(2048);
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}
