import type { IncomingMessage, ServerResponse } from 'node:http';
import { createAdminTokenVerifier } from '../../shared/auth/admin-auth.ts';
import { CredentialsCipher } from '../../shared/crypto/credentials-cipher.ts';
import { createInternalServer, listen } from '../../shared/http/server.ts';
import { createServiceApp, finishServiceApp, startRuntime, type ServiceRuntime,
  type ServiceStartOptions } from '../../shared/service/runtime.ts';
import type { GatewayConfig } from './config.ts';
import { CredentialInjector } from './credential-injector.ts';
import { createProxyHandler } from './proxy-handler.ts';
import { ServiceDirectory } from './service-directory.ts';

/** Paths served by express; every other path is a gateway call. */
const OWN_ROUTES = new Set(['/healthz', '/readyz', '/metrics']);

export type GatewayService = {
  runtime: ServiceRuntime;
  internalPort: number;
  stop(): Promise<void>;
};

function pathOf(url: string | undefined): string {
  const raw = url ?? '/';
  const queryAt = raw.indexOf('?');
  return queryAt === -1 ? raw : raw.slice(0, queryAt);
}

/**
 * Start the egress gateway: watch the services bucket, then serve `/{app}/{service}/{path}` and
 * the health routes on the internal port.
 */
export async function startGatewayService(
  config: Readonly<GatewayConfig>,
  options: ServiceStartOptions = {},
): Promise<GatewayService> {
  const runtime = await startRuntime('gateway', config.common, options);
  try {
    return await startGateway(runtime, config);
  } catch (error) {
    await runtime.shutdown.stop();
    throw error;
  }
}

async function startGateway(runtime: ServiceRuntime, config: Readonly<GatewayConfig>): Promise<GatewayService> {
  const { log } = runtime;
  const policy = config.common.egress;

  const cipher = await CredentialsCipher.load(config.common.credentialsKeys, config.common.credentialsKeyFile);
  const verifyWorkload = config.common.requireWorkloadAuth ? await createAdminTokenVerifier(config.common.adminAuth) : undefined;

  const directory = new ServiceDirectory(runtime.resources.kv.services, cipher, policy, log, runtime.nats.state);
  const credentials = new CredentialInjector({
    policy,
    timeoutMs: config.timeoutMs,
    tokenExpiryMarginMs: config.tokenExpiryMarginMs,
    tokenTtlWithoutExpiryMs: config.tokenTtlWithoutExpiryMs,
    log,
  });
  directory.onChange((key) => credentials.forgetService(key));
  await directory.start();
  runtime.shutdown.addCleanup('service directory', () => {
    directory.stop();
    credentials.stop();
  });
  runtime.addReadinessProbe('services', () => (directory.ready ? undefined : 'services cache is loading'));

  const app = createServiceApp(runtime, { health: true });
  finishServiceApp(runtime, app);
  const proxy = createProxyHandler({
    directory,
    credentials,
    timeoutMs: config.timeoutMs,
    retryBufferBytes: config.retryBufferBytes,
    log,
    metrics: runtime.metrics,
    verifyWorkload,
  });

  const server = createInternalServer((req: IncomingMessage, res: ServerResponse) => {
    if (OWN_ROUTES.has(pathOf(req.url))) {
      app(req, res);
      return;
    }
    proxy(req, res);
  });
  const address = await listen(server, config.common.ports.gateway.internal, config.common.host);
  runtime.shutdown.addServer(server);
  log.info({ port: address.port, host: config.common.host, workloadAuth: verifyWorkload !== undefined }, 'internal HTTP listening');

  return { runtime, internalPort: address.port, stop: () => runtime.shutdown.stop() };
}
