import { readFile } from 'node:fs/promises';
import { createAdminTokenVerifier, requireRoleForMethod } from '../../shared/auth/admin-auth.ts';
import { CredentialsCipher } from '../../shared/crypto/credentials-cipher.ts';
import { requireApplicationIdentity } from '../../shared/http/require-identity.ts';
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
import { ApplicationStore } from './adapters/application-store.ts';
import { ClientCertificateIssuer } from './adapters/client-certificate.ts';
import { EgressHttpClient } from './adapters/http-fetch.ts';
import { openNameReservations } from './adapters/name-reservations.ts';
import { ServiceStore } from './adapters/service-store.ts';
import { SpecFetcher } from './adapters/spec-fetcher.ts';
import { SpecStore } from './adapters/spec-store.ts';
import { ApplicationRegistry } from './application-registry.ts';
import type { RegistryConfig } from './config.ts';
import { compileRegistryValidators } from './domain/service-schema.ts';
import { createApplicationRouter } from './http/application-routes.ts';
import { createMetadataRouter } from './http/metadata-routes.ts';
import { createNatsOutageMapper } from './http/nats-outage.ts';
import { ServiceRegistry } from './service-registry.ts';

export type RegistryService = {
  runtime: ServiceRuntime;
  internalPort: number;
  externalPort: number;
  stop(): Promise<void>;
};

async function createRegistries(runtime: ServiceRuntime, config: Readonly<RegistryConfig>): Promise<{ services: ServiceRegistry; applications: ApplicationRegistry }> {
  const { resources, log } = runtime;
  const common = config.common;
  const validators = compileRegistryValidators();

  const services = new ServiceRegistry({
    services: new ServiceStore(resources.kv.services),
    reservations: await openNameReservations(resources.js, common.stream.replicas),
    specs: new SpecStore(resources.specs, log),
    fetcher: new SpecFetcher(new EgressHttpClient(common.egress), {
      timeoutMs: config.specFetchTimeoutMs,
      maxBytes: config.specMaxBytes,
      parseTimeoutMs: config.specParseTimeoutMs,
    }),
    cipher: await CredentialsCipher.load(common.credentialsKeys, common.credentialsKeyFile),
    certificates: await ClientCertificateIssuer.load(common.caCertFile, common.caKeyFile, config.generatedCertValidityMs),
    validators,
    log,
  });
  const applications = new ApplicationRegistry(new ApplicationStore(resources.kv.applications, resources.kv.revocations), services, validators, log);
  return { services, applications };
}

/**
 * Start the registry: the internal admin and read API with health routes, and the external mTLS
 * metadata API. Ports 0 pick free ports.
 */
export async function startRegistryService(config: Readonly<RegistryConfig>, options: ServiceStartOptions = {}): Promise<RegistryService> {
  const runtime = await startRuntime('registry', config.common, options);
  try {
    const directory = await startIdentityDirectory(runtime.resources, runtime.nats.state, runtime.log);
    runtime.shutdown.addCleanup('identity directory', () => directory.stop());
    runtime.addReadinessProbe('caches', () => (directory.ready ? undefined : 'KV caches are loading'));

    const { services, applications } = await createRegistries(runtime, config);
    const verify = await createAdminTokenVerifier(config.common.adminAuth);
    const tls = await loadServerTls(config.common);
    const caCertificatePem = await readFile(config.common.caCertFile, 'utf8');

    const internal = createServiceApp(runtime, { health: true });
    internal.use(
      createApplicationRouter({ applications, services, requireRole: requireRoleForMethod(verify), bodyLimitBytes: config.applicationBodyLimitBytes }),
    );
    internal.use(createNatsOutageMapper(runtime.nats.state));
    finishServiceApp(runtime, internal);

    const external = createServiceApp(runtime, { health: false });
    const requireIdentity = requireApplicationIdentity({ trustForwardedClientCert: config.common.trustForwardedClientCert, caCertificatePem }, directory);
    external.use(createMetadataRouter({ registry: services, requireIdentity, bodyLimitBytes: config.metadataBodyLimitBytes }));
    external.use(createNatsOutageMapper(runtime.nats.state));
    finishServiceApp(runtime, external);

    const internalPort = await serveInternal(runtime, internal, config.common.ports.registry.internal);
    const externalPort = await serveExternal(runtime, external, config.common.ports.registry.external ?? 0, tls);
    return { runtime, internalPort, externalPort, stop: () => runtime.shutdown.stop() };
  } catch (error) {
    await runtime.shutdown.stop();
    throw error;
  }
}
