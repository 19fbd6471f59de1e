import { runMain } from '../../shared/service/main.ts';
import { parseDispatcherConfig } from './config.ts';
import { startDispatcherService } from './service.ts';

runMain('dispatcher', async () => {
  await startDispatcherService(parseDispatcherConfig(process.env));
});
