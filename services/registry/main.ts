import { runMain } from '../../shared/service/main.ts';
import { parseRegistryConfig } from './config.ts';
import { startRegistryService } from './service.ts';

runMain('registry', async () => {
  await startRegistryService(parseRegistryConfig(process.env));
});
