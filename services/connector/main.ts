import { runMain } from '../../shared/service/main.ts';
import { parseConnectorConfig } from './config.ts';
import { startConnector } from './connector.ts';

runMain('connector', async () => {
  await startConnector(parseConnectorConfig(process.env));
});
