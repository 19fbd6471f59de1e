import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { CredentialsCipher } from '../../shared/crypto/credentials-cipher.ts';
import { normalizeServiceName, serviceKey, type ApiCredentials, type RequestParameters, type ServiceRecord } from '../../shared/model/service-record.ts';
import { parseGatewayConfig } from '../../services/gateway/config.ts';
import { startGatewayService, type GatewayService } from '../../services/gateway/service.ts';
import http from 'node:http';
import type { TestRequest, TestResponse } from '../helpers/http.ts';

/** How long a change in the services bucket may take to reach the gateway. */
export const PROPAGATION_LIMIT_MS = 1000;

export type ServiceInput = {
  app: string;
  name: string;
  targetUrl?: string;
  credentials?: ApiCredentials;
  requestParameters?: RequestParameters;
  caBundle?: string;
  id?: string;
};

/** A gateway started in-process on a free port, with its log lines captured. */
export class GatewayFixture {
  private constructor(
    readonly service: GatewayService,
    readonly cipher: CredentialsCipher,
    /** Every log line the gateway wrote, as JSON text. */
    readonly logLines: string[],
  ) {}

  static async start(natsUrl: string, env: Record<string, string> = {}): Promise<GatewayFixture> {
    const keys = CredentialsCipher.generateEntry('test');
    const logLines: string[] = [];
    const logDestination = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        logLines.push(chunk.toString('utf8'));
        callback();
      },
    });
    const config = parseGatewayConfig({
      NATS_URL: natsUrl,
      FERRY_GATEWAY_INTERNAL_PORT: '0',
      FERRY_CREDENTIALS_KEYS: keys,
      FERRY_EGRESS_ALLOW_LOOPBACK: 'true',
      FERRY_LOG_LEVEL: 'debug',
      FERRY_SHUTDOWN_TIMEOUT_MS: '1000',
      ...env,
    });
    const service = await startGatewayService(config, { installSignalHandlers: false, logDestination });
    return new GatewayFixture(service, CredentialsCipher.parse(keys, 'test keys'), logLines);
  }

  get url(): string {
    return `http://127.0.0.1:${this.service.internalPort}`;
  }

  /** Write a service record to the bucket as the registry does, with its credentials encrypted. */
  async putService(input: ServiceInput): Promise<ServiceRecord> {
    const now = new Date().toISOString();
    const credentialType = input.credentials?.oauth ? 'oauth' : input.credentials?.basic ? 'basic' : input.credentials?.certificateGen ? 'certificateGen' : undefined;
    const record: ServiceRecord = {
      id: input.id ?? randomUUID(),
      application: input.app,
      provider: 'Test',
      name: input.name,
      normalizedName: normalizeServiceName(input.name),
      description: 'test service',
      labels: {},
      ...(input.targetUrl === undefined
        ? {}
        : {
            api: {
              targetUrl: input.targetUrl,
              ...(input.requestParameters === undefined ? {} : { requestParameters: input.requestParameters }),
              ...(input.caBundle === undefined ? {} : { caBundle: input.caBundle }),
              ...(input.credentials === undefined ? {} : { credentials: this.cipher.encryptJson(input.credentials), credentialType }),
            },
          }),
      createdAt: now,
      updatedAt: now,
    };
    await this.service.runtime.resources.kv.services.put(serviceKey(record.application, record.id), JSON.stringify(record));
    return record;
  }

  async deleteService(record: ServiceRecord): Promise<void> {
    await this.service.runtime.resources.kv.services.delete(serviceKey(record.application, record.id));
  }

  /**
   * Register a service and wait until the gateway routes it. The probe sends `Access-Token`, so it
   * fetches no OAuth or CSRF token and leaves the token caches empty.
   */
  async addService(input: ServiceInput): Promise<ServiceRecord> {
    const record = await this.putService(input);
    const probe = { headers: { 'access-token': 'Bearer probe' } };
    await this.waitUntil(`/${record.application}/${record.normalizedName}`, (response) => !isResolutionFailure(response), probe);
    return record;
  }

  /** Poll until `accept(status)` holds, and return the elapsed milliseconds. Fails after the propagation limit. */
  waitForStatus(path: string, accept: (status: number) => boolean): Promise<number> {
    return this.waitUntil(path, (response) => accept(response.status));
  }

  /** Poll until `accept(response)` holds, and return the elapsed milliseconds. Fails after the propagation limit. */
  async waitUntil(path: string, accept: (response: TestResponse) => boolean, options: TestRequest = {}): Promise<number> {
    const startedAt = Date.now();
    let last: TestResponse | undefined;
    while (Date.now() - startedAt <= PROPAGATION_LIMIT_MS) {
      last = await this.call(path, options);
      if (accept(last)) {
        return Date.now() - startedAt;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`${path} still answered ${last?.status} ${last?.body} after ${PROPAGATION_LIMIT_MS} ms`);
  }

  /** Send one request with `path` as the exact request target, which `new URL` would normalize. */
  call(path: string, options: TestRequest = {}): Promise<TestResponse> {
    return sendRaw(this.service.internalPort, path, options);
  }

  stop(): Promise<void> {
    return this.service.stop();
  }
}

/** True for the gateway's own 404 for an app or service it does not know (yet). */
function isResolutionFailure(response: TestResponse): boolean {
  return response.status === 404 && /unknown or has no registered services|has no service named/.test(response.body);
}

/** Send a request on a fresh connection without normalizing `path`, and buffer the answer. */
export function sendRaw(port: number, path: string, options: TestRequest = {}): Promise<TestResponse> {
  const headers = { ...options.headers };
  // Node's client frames a DELETE body only when the length is given.
  if (options.body !== undefined && headers['content-length'] === undefined && headers['transfer-encoding'] === undefined) {
    headers['content-length'] = String(Buffer.byteLength(options.body));
  }
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers, agent: false, timeout: options.timeoutMs ?? 30_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body) as unknown });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`request to ${path} timed out`)));
    req.on('error', reject);
    req.end(options.body);
  });
}
