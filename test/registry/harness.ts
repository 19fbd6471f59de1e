import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { issueAdminToken } from '../../shared/auth/issue-admin-token.ts';
import { CredentialsCipher } from '../../shared/crypto/credentials-cipher.ts';
import { parseRegistryConfig } from '../../services/registry/config.ts';
import { startRegistryService, type RegistryService } from '../../services/registry/service.ts';
import { request, type TestResponse } from '../helpers/http.ts';
import { TestNatsServer } from '../helpers/nats-server.ts';
import { createTestPki, type TestClientCertificate, type TestPki } from '../helpers/pki.ts';

export const FIXTURES_DIR = path.join(import.meta.dirname, '..', 'fixtures', 'specs');

export function readFixture(name: string): Promise<string> {
  return readFile(path.join(FIXTURES_DIR, name), 'utf8');
}

/** Log lines collected from the service under test. */
export class LogSink extends Writable {
  readonly lines: string[] = [];

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter((line) => line !== ''));
    callback();
  }
}

const ADMIN_SECRET = 'registry-test-secret-0123456789abcdef';

/** A running registry with its own NATS, PKI and temp files, and helpers to call both listeners. */
export class RegistryHarness {
  private constructor(
    readonly nats: TestNatsServer,
    readonly pki: TestPki,
    readonly dir: string,
    readonly env: Record<string, string>,
    readonly service: RegistryService,
    readonly logs: LogSink,
    readonly adminToken: string,
    readonly viewerToken: string,
  ) {}

  static async start(extraEnv: Record<string, string> = {}, shared?: { nats: TestNatsServer; pki: TestPki; dir: string }): Promise<RegistryHarness> {
    const nats = shared?.nats ?? (await TestNatsServer.start());
    const pki = shared?.pki ?? (await createTestPki());
    const dir = shared?.dir ?? (await mkdtemp(path.join(os.tmpdir(), 'ferry-registry-')));
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

    const env: Record<string, string> = {
      NATS_URL: nats.url,
      FERRY_LOG_LEVEL: 'debug',
      FERRY_REGISTRY_INTERNAL_PORT: '0',
      FERRY_REGISTRY_EXTERNAL_PORT: '0',
      FERRY_CERTS_DIR: dir,
      FERRY_ADMIN_JWT_SECRET: ADMIN_SECRET,
      FERRY_CREDENTIALS_KEYS: CredentialsCipher.generateEntry('test'),
      ...files,
      ...extraEnv,
    };
    const logs = new LogSink();
    const service = await startRegistryService(parseRegistryConfig(env), { installSignalHandlers: false, logDestination: logs });
    const secret = new TextEncoder().encode(ADMIN_SECRET);
    const adminToken = await issueAdminToken(secret);
    const viewerToken = await issueAdminToken(secret, { roles: ['viewer'] });
    return new RegistryHarness(nats, pki, dir, env, service, logs, adminToken, viewerToken);
  }

  get internalUrl(): string {
    return `http://127.0.0.1:${this.service.internalPort}`;
  }

  get externalUrl(): string {
    return `https://127.0.0.1:${this.service.externalPort}`;
  }

  /** Call the internal API with the admin token, or with `token` when given (`''` sends none). */
  internal(method: string, pathname: string, body?: unknown, token = this.adminToken): Promise<TestResponse> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (token !== '') {
      headers.authorization = `Bearer ${token}`;
    }
    return request(`${this.internalUrl}${pathname}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
  }

  /** Call the external API over mTLS with `client`'s certificate (none when undefined). */
  external(method: string, pathname: string, client: TestClientCertificate | undefined, body?: unknown, headers: Record<string, string> = {}): Promise<TestResponse> {
    return request(`${this.externalUrl}${pathname}`, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      ca: this.pki.ca.certificatePem,
      ...(client ? { cert: client.certificatePem, key: client.privateKeyPem } : {}),
      ...(body === undefined ? {} : { body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body) }),
    });
  }

  /** Create an application and wait until the identity cache of the external listener contains it. */
  async createApplication(name: string): Promise<TestClientCertificate> {
    const response = await this.internal('POST', '/v1/applications', { name });
    if (response.status !== 201) {
      throw new Error(`creating application ${name} returned ${response.status}: ${response.body}`);
    }
    const client = await this.pki.issueClient(name);
    await waitFor(async () => (await this.external('GET', `/${name}/v1/metadata/services`, client)).status === 200, 5000);
    return client;
  }

  async stop(options: { keepShared?: boolean } = {}): Promise<void> {
    await this.service.stop();
    if (!options.keepShared) {
      await this.nats.stop();
      await rm(this.dir, { recursive: true, force: true });
    }
  }
}

/** Poll `check` every 20 ms until it returns true. Throws after `timeoutMs`. */
export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (await check()) {
      return Date.now() - started;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}

/** Assert that a response has `status` and the `{code, error}` body with a message matching `pattern`. */
export async function expectError(response: Promise<TestResponse>, status: number, pattern: RegExp): Promise<void> {
  const answer = await response;
  assert.equal(answer.status, status, answer.body.slice(0, 500));
  const body = answer.json() as { code: number; error: string };
  assert.equal(body.code, status);
  assert.match(body.error, pattern);
}

/** Build a minimal valid service body. */
export function serviceBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    provider: 'SAP',
    name: 'Commerce Webservices',
    description: 'OCC API',
    api: { targetUrl: 'https://commerce.example.com/rest/v2' },
    ...overrides,
  };
}
