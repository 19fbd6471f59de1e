/**
 * Create the development credentials in FERRY_CERTS_DIR when they are missing, then exit. The
 * docker-compose setup runs it once before the services start; `npm start` does the same itself.
 */
import { parseCommonConfig } from '../shared/config/common.ts';
import { devCredentialPaths, ensureDevCredentials } from '../shared/pki/dev-credentials.ts';
import { runMain } from '../shared/service/main.ts';

runMain('init-certs', async () => {
  const config = parseCommonConfig(process.env);
  const created = await ensureDevCredentials(devCredentialPaths(config));
  process.stdout.write(created.length === 0 ? 'credentials already present\n' : `created ${created.join(', ')}\n`);
});
