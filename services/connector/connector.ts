import { createAdminTokenVerifier } from '../../shared/auth/admin-auth.ts';
import { startIdentityDirectory } from '../../shared/nats/identity-directory.ts';
import {
  createServiceApp,
  finishServiceApp,
  loadServerTls,
  serveExternal,
  serveInternal,
  startRuntime,
  type ServiceRuntime,
  type ServiceStartOptions,
} from '../../shared/service/runtime.ts';
import { loadCertificateAuthority } from './adapters/certificate-issuer.ts';
import { createInlineSigner, createWorkerSigner } from './adapters/csr-signer.ts';
import { createRevocationStore } from './adapters/revocation-store.ts';
import { createTokenStore } from './adapters/token-store.ts';
import type { ConnectorConfig } from './config.ts';
import { createExternalRouter } from './http/external-routes.ts';
import { createInternalRouter } from './http/internal-routes.ts';
import { createPairing } from './pairing.ts';

export type ConnectorOptions = ServiceStartOptions & {
  /** Clock in epoch milliseconds for token expiry and certificate validity, for tests. */
  now?: () => number;
};

/** A running connector: its bound ports and a graceful stop. */
export type RunningConnector = {
  runtime: ServiceRuntime;
  internalPort: number;
  externalPort: number;
  stop(): Promise<void>;
};

/** Start the connector: NATS resources and caches, the CA, then the internal and external listeners. */
export async function startConnector(config: Readonly<ConnectorConfig>, options: ConnectorOptions = {}): Promise<RunningConnector> {
  const { common } = config;
  const ca = await loadCertificateAuthority(common.caCertFile, common.caKeyFile);
  const verifyAdminToken = await createAdminTokenVerifier(common.adminAuth);
  const serverTls = await loadServerTls(common);

  const runtime = await startRuntime('connector', common, {
    ...(options.logDestination ? { logDestination: options.logDestination } : {}),
    installSignalHandlers: options.installSignalHandlers ?? true,
  });
  const directory = await startIdentityDirectory(runtime.resources, runtime.nats.state, runtime.log);
  runtime.shutdown.addCleanup('identity directory', () => directory.stop());
  runtime.addReadinessProbe('caches', () => (directory.ready ? undefined : 'KV caches are loading'));

  const now = options.now ?? Date.now;
  const signerOptions = { ca, validityMs: config.certificateValidityMs, now };
  const signer =
    config.signingThreads === 0 ? createInlineSigner(signerOptions) : await createWorkerSigner({ ...signerOptions, threads: config.signingThreads, log: runtime.log });
  runtime.shutdown.addCleanup('CSR signing workers', () => signer.close());

  const { kv } = runtime.resources;
  const pairing = createPairing({
    config,
    tokens: createTokenStore({ kv: kv.tokens, ttlMs: common.tokenTtlMs, now }),
    revocations: createRevocationStore(kv.revocations, now),
    signer,
    directory,
    applications: kv.applications,
    log: runtime.log,
  });

  const internal = createServiceApp(runtime, { health: true });
  internal.use(createInternalRouter(pairing, verifyAdminToken));
  finishServiceApp(runtime, internal);

  const external = createServiceApp(runtime, { health: false });
  external.use(createExternalRouter(pairing, { trustForwardedClientCert: common.trustForwardedClientCert, caCertificatePem: ca.certificatePem }, directory));
  finishServiceApp(runtime, external);

  const internalPort = await serveInternal(runtime, internal, common.ports.connector.internal);
  const externalPort = await serveExternal(runtime, external, common.ports.connector.external ?? 0, serverTls);
  return { runtime, internalPort, externalPort, stop: () => runtime.shutdown.stop() };
}
