import { runMain } from '../../shared/service/main.ts';
import { createServiceApp, finishServiceApp, serveInternal, startRuntime } from '../../shared/service/runtime.ts';
import { parseGatewayConfig } from './config.ts';

runMain('gateway', async () => {
  const config = parseGatewayConfig(process.env);
  const runtime = await startRuntime('gateway', config.common);

  const app = createServiceApp(runtime, { health: true });
  finishServiceApp(runtime, app);
  await serveInternal(runtime, app, config.common.ports.gateway.internal);
});
