import { runMain } from '../../shared/service/main.ts';
import { createServiceApp, finishServiceApp, serveInternal, startRuntime } from '../../shared/service/runtime.ts';
import { parseFunctionsConfig } from './config.ts';

runMain('functions', async () => {
  const config = parseFunctionsConfig(process.env);
  const runtime = await startRuntime('functions', config.common);

  const app = createServiceApp(runtime, { health: true });
  finishServiceApp(runtime, app);
  await serveInternal(runtime, app, config.common.ports.functions.internal);
});
