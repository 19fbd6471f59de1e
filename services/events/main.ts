import { runMain } from '../../shared/service/main.ts';
import { startIdentityDirectory } from '../../shared/nats/identity-directory.ts';
import { createServiceApp, finishServiceApp, loadServerTls, serveExternal, serveInternal, startRuntime } from '../../shared/service/runtime.ts';
import { parseEventsConfig } from './config.ts';

runMain('events', async () => {
  const config = parseEventsConfig(process.env);
  const runtime = await startRuntime('events', config.common);
  const directory = await startIdentityDirectory(runtime.resources, runtime.nats.state, runtime.log);
  runtime.shutdown.addCleanup('identity directory', () => directory.stop());
  runtime.addReadinessProbe('caches', () => (directory.ready ? undefined : 'KV caches are loading'));

  const internal = createServiceApp(runtime, { health: true });
  finishServiceApp(runtime, internal);

  const external = createServiceApp(runtime, { health: false });
  finishServiceApp(runtime, external);

  await serveInternal(runtime, internal, config.common.ports.events.internal);
  await serveExternal(runtime, external, config.common.ports.events.external ?? 0, await loadServerTls(config.common));
});
