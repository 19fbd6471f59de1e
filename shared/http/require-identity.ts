import type { RequestHandler, Request } from 'express';
import { authenticateApplication, type ClientIdentity, type IdentityDirectory, type IdentityOptions } from './client-identity.ts';

declare module 'node:http' {
  interface IncomingMessage {
    /** The verified external system, set by `requireApplicationIdentity`. */
    identity?: ClientIdentity;
  }
}

/**
 * Express middleware for external mTLS routes. The application comes from the `{app}` path
 * parameter by default. Routes without one, such as management info, pass `() => undefined` so the
 * certificate's CN names the application.
 */
export function requireApplicationIdentity(
  options: IdentityOptions,
  directory: IdentityDirectory,
  applicationOf: (req: Request) => string | undefined = (req) => req.params.app as string | undefined,
): RequestHandler {
  return (req, _res, next) => {
    req.identity = authenticateApplication(req, applicationOf(req), options, directory);
    next();
  };
}
