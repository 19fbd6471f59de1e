import path from 'node:path';
import { ConfigError } from '../errors/errors.ts';
import {
  deepFreeze,
  readBoolean,
  readChoice,
  readInteger,
  readList,
  readOptionalString,
  readPort,
  readString,
  readUrl,
  type Env,
} from './env.ts';
import { SERVICE_PORTS, externalPortVariable, internalPortVariable, type ServiceName } from './services.ts';

export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;
export const DEFAULT_EVENTS_MAX_AGE_MS = 7 * 24 * 60 * 60 * 1000;
export const DEFAULT_EVENTS_MAX_BYTES = -1;
export const DEFAULT_DUPLICATE_WINDOW_MS = 2 * 60 * 1000;
export const DEFAULT_DEADLETTER_MAX_AGE_MS = 14 * 24 * 60 * 60 * 1000;
export const DEFAULT_TOKEN_TTL_MS = 5 * 60 * 1000;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Admin JWT verification settings: a shared HS256 secret, or an OIDC issuer's JWKS. */
export type AdminAuthConfig =
  | { mode: 'secret'; secretFile: string; secret: string | undefined; issuer: string | undefined; audience: string | undefined }
  | {
      mode: 'oidc';
      issuer: string;
      audience: string | undefined;
      /** Overrides the `jwks_uri` from the issuer's discovery document. */
      jwksUrl: string | undefined;
      algorithms: readonly string[];
    };

/** Egress policy for outbound calls (spec fetches, sinks, gateway targets). */
export type EgressPolicyConfig = {
  allowLoopback: boolean;
  allowPrivate: boolean;
  allowLinkLocal: boolean;
  /** Host names or IP addresses that are always allowed, whatever they resolve to. */
  allowedHosts: readonly string[];
};

export type CommonConfig = {
  natsUrl: string;
  logLevel: LogLevel;
  /** Interface that every listener binds to. */
  host: string;
  certsDir: string;
  /** Store folder of the nats-server that `npm start` starts. */
  dataDir: string;
  caCertFile: string;
  caKeyFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  /** Trust the `X-Forwarded-Client-Cert` header from a TLS-terminating proxy instead of the TLS socket. */
  trustForwardedClientCert: boolean;
  adminAuth: AdminAuthConfig;
  /** Require an admin JWT on workload routes (gateway and `/publish`). */
  requireWorkloadAuth: boolean;
  shutdownTimeoutMs: number;
  publicUrls: { connector: string; registry: string; events: string };
  internalUrls: { registry: string; events: string; gateway: string; dispatcher: string; functions: string; connector: string };
  ports: Record<ServiceName, { internal: number; external: number | undefined }>;
  stream: {
    replicas: number;
    eventsMaxAgeMs: number;
    eventsMaxBytes: number;
    duplicateWindowMs: number;
    deadLetterMaxAgeMs: number;
  };
  tokenTtlMs: number;
  egress: EgressPolicyConfig;
  /** File of `<kid>:<base64 key>` lines for credentials at rest; the first line encrypts. */
  credentialsKeyFile: string;
  /** Inline alternative to `credentialsKeyFile`, entries separated by commas. */
  credentialsKeys: string | undefined;
};

function readPorts(env: Env): CommonConfig['ports'] {
  const ports = {} as CommonConfig['ports'];
  for (const [service, defaults] of Object.entries(SERVICE_PORTS) as [ServiceName, (typeof SERVICE_PORTS)[ServiceName]][]) {
    ports[service] = {
      internal: readPort(env, internalPortVariable(service), defaults.internal),
      external: defaults.external === undefined ? undefined : readPort(env, externalPortVariable(service), defaults.external),
    };
  }
  return ports;
}

function readAdminAuth(env: Env, certsDir: string): AdminAuthConfig {
  const issuer = readOptionalString(env, 'FERRY_ADMIN_OIDC_ISSUER');
  const audience = readOptionalString(env, 'FERRY_ADMIN_JWT_AUDIENCE');

  if (issuer !== undefined) {
    readUrl(env, 'FERRY_ADMIN_OIDC_ISSUER', issuer, ['https:', 'http:']);
    const jwksUrl = readOptionalString(env, 'FERRY_ADMIN_JWKS_URL');
    if (jwksUrl !== undefined) {
      readUrl(env, 'FERRY_ADMIN_JWKS_URL', jwksUrl, ['https:', 'http:']);
    }
    const algorithms = readList(env, 'FERRY_ADMIN_JWT_ALGORITHMS', ['RS256']);
    for (const algorithm of algorithms) {
      if (algorithm.startsWith('HS') || algorithm === 'none') {
        throw new ConfigError(`FERRY_ADMIN_JWT_ALGORITHMS must list asymmetric algorithms for OIDC, got '${algorithm}'`);
      }
    }
    return { mode: 'oidc', issuer, audience, jwksUrl, algorithms };
  }

  const secret = readOptionalString(env, 'FERRY_ADMIN_JWT_SECRET');
  if (secret !== undefined && Buffer.byteLength(secret) < 32) {
    throw new ConfigError('FERRY_ADMIN_JWT_SECRET must be at least 32 bytes long');
  }
  return {
    mode: 'secret',
    secretFile: path.resolve(readString(env, 'FERRY_ADMIN_JWT_SECRET_FILE', path.join(certsDir, 'admin-jwt-secret'))),
    secret,
    issuer: readOptionalString(env, 'FERRY_ADMIN_JWT_ISSUER'),
    audience,
  };
}

/** Parse the settings that every service shares. Throws `ConfigError` naming the first invalid variable. */
export function parseCommonConfig(env: Env): Readonly<CommonConfig> {
  const certsDir = path.resolve(readString(env, 'FERRY_CERTS_DIR', 'certs'));
  const ports = readPorts(env);
  const host = readString(env, 'FERRY_HOST', '127.0.0.1');
  const internalHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const internalUrl = (service: ServiceName): string =>
    readUrl(env, `FERRY_${service.toUpperCase()}_URL`, `http://${internalHost}:${ports[service].internal}`, ['http:', 'https:']);
  const publicUrl = (service: 'connector' | 'registry' | 'events'): string =>
    readUrl(env, `FERRY_${service.toUpperCase()}_PUBLIC_URL`, `https://localhost:${ports[service].external}`, ['https:']);

  return deepFreeze({
    natsUrl: readUrl(env, 'NATS_URL', DEFAULT_NATS_URL, ['nats:', 'tls:', 'ws:', 'wss:']),
    logLevel: readChoice(env, 'FERRY_LOG_LEVEL', 'info', LOG_LEVELS),
    host,
    certsDir,
    dataDir: path.resolve(readString(env, 'FERRY_DATA_DIR', '.data')),
    caCertFile: path.resolve(readString(env, 'FERRY_CA_CERT', path.join(certsDir, 'ca.pem'))),
    caKeyFile: path.resolve(readString(env, 'FERRY_CA_KEY', path.join(certsDir, 'ca.key.pem'))),
    serverCertFile: path.resolve(readString(env, 'FERRY_SERVER_CERT', path.join(certsDir, 'server.pem'))),
    serverKeyFile: path.resolve(readString(env, 'FERRY_SERVER_KEY', path.join(certsDir, 'server.key.pem'))),
    trustForwardedClientCert: readBoolean(env, 'FERRY_TRUST_XFCC', false),
    adminAuth: readAdminAuth(env, certsDir),
    requireWorkloadAuth: readBoolean(env, 'FERRY_REQUIRE_WORKLOAD_AUTH', false),
    shutdownTimeoutMs: readInteger(env, 'FERRY_SHUTDOWN_TIMEOUT_MS', DEFAULT_SHUTDOWN_TIMEOUT_MS, { min: 0 }),
    publicUrls: { connector: publicUrl('connector'), registry: publicUrl('registry'), events: publicUrl('events') },
    internalUrls: {
      connector: internalUrl('connector'),
      registry: internalUrl('registry'),
      events: internalUrl('events'),
      gateway: internalUrl('gateway'),
      dispatcher: internalUrl('dispatcher'),
      functions: internalUrl('functions'),
    },
    ports,
    stream: {
      replicas: readInteger(env, 'FERRY_NATS_REPLICAS', 1, { min: 1, max: 5 }),
      eventsMaxAgeMs: readInteger(env, 'FERRY_EVENTS_MAX_AGE_MS', DEFAULT_EVENTS_MAX_AGE_MS, { min: 0 }),
      eventsMaxBytes: readInteger(env, 'FERRY_EVENTS_MAX_BYTES', DEFAULT_EVENTS_MAX_BYTES, { min: -1 }),
      duplicateWindowMs: readInteger(env, 'FERRY_DUPLICATE_WINDOW_MS', DEFAULT_DUPLICATE_WINDOW_MS, { min: 1000 }),
      deadLetterMaxAgeMs: readInteger(env, 'FERRY_DEADLETTER_MAX_AGE_MS', DEFAULT_DEADLETTER_MAX_AGE_MS, { min: 0 }),
    },
    tokenTtlMs: readInteger(env, 'FERRY_TOKEN_TTL_MS', DEFAULT_TOKEN_TTL_MS, { min: 1000 }),
    credentialsKeyFile: path.resolve(readString(env, 'FERRY_CREDENTIALS_KEY_FILE', path.join(certsDir, 'credentials.keys'))),
    credentialsKeys: readOptionalString(env, 'FERRY_CREDENTIALS_KEYS'),
    egress: {
      allowLoopback: readBoolean(env, 'FERRY_EGRESS_ALLOW_LOOPBACK', false),
      allowPrivate: readBoolean(env, 'FERRY_EGRESS_ALLOW_PRIVATE', false),
      allowLinkLocal: readBoolean(env, 'FERRY_EGRESS_ALLOW_LINK_LOCAL', false),
      allowedHosts: readList(env, 'FERRY_EGRESS_ALLOWED_HOSTS', []),
    },
  });
}
