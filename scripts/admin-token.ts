/**
 * Print a fresh admin JWT for the local setup, and nothing else on stdout:
 *   TOKEN=$(npm run --silent admin-token)
 */
import { loadAdminSecret } from '../shared/auth/admin-auth.ts';
import { issueAdminToken } from '../shared/auth/issue-admin-token.ts';
import { parseCommonConfig } from '../shared/config/common.ts';
import { runMain } from '../shared/service/main.ts';

runMain('admin-token', async () => {
  const config = parseCommonConfig(process.env);
  if (config.adminAuth.mode !== 'secret') {
    throw new Error('admin tokens can only be made locally with an HS256 secret; get one from your OIDC issuer instead');
  }
  const secret = await loadAdminSecret(config.adminAuth);
  const token = await issueAdminToken(secret, { issuer: config.adminAuth.issuer });
  process.stdout.write(`${token}\n`);
});
