import { runMain } from '../../shared/service/main.ts';
import { startIdentityDirectory } from '../../shared/nats/identity-directory.ts';
import { createServiceApp, finishServiceApp, loadServerTls, serveExternal, serveInternal, startRuntime } from '../../shared/service/runtime.ts';
import { parseRegistryConfig } from './config.ts';

runMain('registry', async () => {
  const config = parseRegistryConfig(process.env);
  const runtime = await startRuntime('registry', config.common);
  const directory = await startIdentityDirectory(runtime.resources, runtime.nats.state, runtime.log);
  runtime.shutdown.addCleanup('identity directory', () => directory.stop());
  runtime.addReadinessProbe('caches', () => (directory.ready ? undefined : 'KV caches are loading'));

  const internal = createServiceApp(runtime, { health: true });
  finishServiceApp(runtime, internal);

  const external = createServiceApp(runtime, { health: false });
  finishServiceApp(runtime, external);

  await serveInternal(runtime, internal, config.common.ports.registry.internal);
  await serveExternal(runtime, external, config.common.ports.registry.external ?? 0, await loadServerTls(config.common));
});
