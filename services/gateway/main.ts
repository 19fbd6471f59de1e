import { runMain } from '../../shared/service/main.ts';
import { parseGatewayConfig } from './config.ts';
import { startGatewayService } from './service.ts';

runMain('gateway', async () => {
  await startGatewayService(parseGatewayConfig(process.env));
});
