import { runMain } from '../../shared/service/main.ts';
import { parseEventsConfig } from './config.ts';
import { startEventsService } from './service.ts';

runMain('events', async () => {
  await startEventsService(parseEventsConfig(process.env));
});
