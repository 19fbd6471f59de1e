import { readFile } from 'node:fs/promises';
import type { RequestHandler } from 'express';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { AdminAuthConfig } from '../config/common.ts';
import { ConfigError, ForbiddenError, UnauthenticatedError } from '../errors/errors.ts';

/** Roles of the internal API. `admin` may read and write, `viewer` may only read. */
export const AdminRole = { Admin: 'admin', Viewer: 'viewer' } as const;
export type AdminRole = (typeof AdminRole)[keyof typeof AdminRole];

/** The only algorithm accepted with a shared secret. Pinning it rules out `none` and algorithm confusion. */
export const SECRET_ALGORITHM = 'HS256';

/** Tolerated clock difference when checking `exp` and `nbf`, in seconds. */
export const CLOCK_TOLERANCE_SECONDS = 30;

export type AdminPrincipal = { subject: string; roles: readonly AdminRole[] };

export type AdminTokenVerifier = (token: string) => Promise<AdminPrincipal>;

declare module 'node:http' {
  interface IncomingMessage {
    /** The verified admin principal, set by `requireRole`. */
    principal?: AdminPrincipal;
  }
}

/** Read the roles from a `roles` array or a `role` string claim, keeping only known roles. */
export function readRoles(payload: JWTPayload): AdminRole[] {
  let claimed: unknown[] = [];
  if (Array.isArray(payload.roles)) {
    claimed = payload.roles;
  } else if (typeof payload.role === 'string') {
    claimed = [payload.role];
  }
  const known = Object.values(AdminRole) as string[];
  return claimed.filter((role): role is AdminRole => typeof role === 'string' && known.includes(role));
}

/** Load the HS256 secret from the configuration or from its file. */
export async function loadAdminSecret(config: Extract<AdminAuthConfig, { mode: 'secret' }>): Promise<Uint8Array> {
  if (config.secret !== undefined) {
    return new TextEncoder().encode(config.secret);
  }
  try {
    const secret = (await readFile(config.secretFile, 'utf8')).trim();
    return new TextEncoder().encode(secret);
  } catch (error) {
    throw new ConfigError(
      `cannot read the admin JWT secret from ${config.secretFile}: set FERRY_ADMIN_JWT_SECRET or FERRY_ADMIN_JWT_SECRET_FILE, or run npm start once to create it`,
      { cause: error },
    );
  }
}

async function discoverJwksUrl(issuer: string): Promise<URL> {
  const discoveryUrl = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  const response = await fetch(discoveryUrl, { signal: AbortSignal.timeout(10_000) });
  if (!response.ok) {
    throw new ConfigError(`OIDC discovery at ${discoveryUrl} failed with status ${response.status}`);
  }
  const document = (await response.json()) as { jwks_uri?: unknown };
  if (typeof document.jwks_uri !== 'string') {
    throw new ConfigError(`OIDC discovery at ${discoveryUrl} has no jwks_uri`);
  }
  return new URL(document.jwks_uri);
}

/**
 * Create the verifier of admin JWTs: HS256 with a shared secret, or an OIDC issuer's keys. The
 * OIDC keys are fetched on first use and cached by jose.
 */
export async function createAdminTokenVerifier(config: AdminAuthConfig): Promise<AdminTokenVerifier> {
  let key: Uint8Array | JWTVerifyGetKey;
  let algorithms: string[];
  let issuer: string | undefined;

  if (config.mode === 'secret') {
    key = await loadAdminSecret(config);
    algorithms = [SECRET_ALGORITHM];
    issuer = config.issuer;
  } else {
    const jwksUrl = config.jwksUrl === undefined ? await discoverJwksUrl(config.issuer) : new URL(config.jwksUrl);
    key = createRemoteJWKSet(jwksUrl);
    algorithms = [...config.algorithms];
    issuer = config.issuer;
  }

  return async (token) => {
    try {
      const verifyOptions = { algorithms, issuer, audience: config.audience, clockTolerance: CLOCK_TOLERANCE_SECONDS };
      const { payload } =
        key instanceof Uint8Array ? await jwtVerify(token, key, verifyOptions) : await jwtVerify(token, key, verifyOptions);
      return { subject: payload.sub ?? 'unknown', roles: readRoles(payload) };
    } catch (error) {
      throw new UnauthenticatedError(describeJwtFailure(error), { cause: error });
    }
  };
}

function describeJwtFailure(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) {
    return 'bearer token has expired';
  }
  if (error instanceof joseErrors.JOSEAlgNotAllowed) {
    return 'bearer token uses an algorithm that is not allowed';
  }
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    return `bearer token claim '${error.claim}' is invalid: ${error.reason}`;
  }
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) {
    return 'bearer token signature is invalid';
  }
  return 'bearer token is invalid';
}

/** Extract the token from `Authorization: Bearer <token>`. */
export function readBearerToken(header: string | undefined): string {
  if (header === undefined || header === '') {
    throw new UnauthenticatedError('missing Authorization header with a Bearer token');
  }
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) {
    throw new UnauthenticatedError('Authorization header must be "Bearer <token>"');
  }
  return match[1]!;
}

/** True when the principal may act as `role`. An admin may do whatever a viewer may. */
export function hasRole(principal: AdminPrincipal, role: AdminRole): boolean {
  return principal.roles.includes(role) || (role === AdminRole.Viewer && principal.roles.includes(AdminRole.Admin));
}

/** Express middleware that requires a verified admin JWT granting `role`. 401 without one, 403 for a weaker role. */
export function requireRole(verify: AdminTokenVerifier, role: AdminRole): RequestHandler {
  return async (req, _res, next) => {
    const principal = await verify(readBearerToken(req.headers.authorization));
    if (!hasRole(principal, role)) {
      throw new ForbiddenError(`role '${role}' is required, the token grants [${principal.roles.join(', ')}]`);
    }
    req.principal = principal;
    next();
  };
}

/** Require `viewer` for safe methods (GET, HEAD) and `admin` for the rest. */
export function requireRoleForMethod(verify: AdminTokenVerifier): RequestHandler {
  const viewer = requireRole(verify, AdminRole.Viewer);
  const admin = requireRole(verify, AdminRole.Admin);
  return (req, res, next) => (req.method === 'GET' || req.method === 'HEAD' ? viewer(req, res, next) : admin(req, res, next));
}
