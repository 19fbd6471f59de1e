import { SignJWT } from 'jose';
import { AdminRole, SECRET_ALGORITHM } from './admin-auth.ts';

/** Lifetime of tokens made by `npm run admin-token`, in seconds. */
export const LOCAL_ADMIN_TOKEN_TTL_SECONDS = 12 * 60 * 60;

/** Sign an HS256 admin JWT for the local setup, for the CLI and tests. */
export async function issueAdminToken(
  secret: Uint8Array,
  options: { subject?: string; roles?: readonly string[]; ttlSeconds?: number; issuer?: string } = {},
): Promise<string> {
  const jwt = new SignJWT({ roles: options.roles ?? [AdminRole.Admin] })
    .setProtectedHeader({ alg: SECRET_ALGORITHM, typ: 'JWT' })
    .setSubject(options.subject ?? 'local-admin')
    .setIssuedAt()
    .setExpirationTime(`${options.ttlSeconds ?? LOCAL_ADMIN_TOKEN_TTL_SECONDS}s`);
  if (options.issuer !== undefined) {
    jwt.setIssuer(options.issuer);
  }
  return jwt.sign(secret);
}
