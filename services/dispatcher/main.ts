import { runMain } from '../../shared/service/main.ts';
import { createServiceApp, finishServiceApp, serveInternal, startRuntime } from '../../shared/service/runtime.ts';
import { parseDispatcherConfig } from './config.ts';

runMain('dispatcher', async () => {
  const config = parseDispatcherConfig(process.env);
  const runtime = await startRuntime('dispatcher', config.common);

  const app = createServiceApp(runtime, { health: true });
  finishServiceApp(runtime, app);
  await serveInternal(runtime, app, config.common.ports.dispatcher.internal);
});
