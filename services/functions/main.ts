import { runMain } from '../../shared/service/main.ts';
import { parseFunctionsConfig } from './config.ts';
import { startFunctionsService } from './service.ts';

runMain('functions', async () => {
  await startFunctionsService(parseFunctionsConfig(process.env));
});
