import { InputError } from '../../shared/errors/errors.ts';

/** Longest path segment quoted back in an error message. */
const QUOTED_SEGMENT_MAX_CHARS = 64;

/** A gateway request path split into its parts. Every part keeps the caller's bytes, nothing is decoded. */
export type GatewayPath = {
  app: string;
  service: string;
  /** Everything after `/{app}/{service}`, starting with `/`, or empty. */
  rest: string;
  /** The query without its `?`, or empty. */
  query: string;
};

/** Shorten a caller-supplied value for an error message. */
export function quoteValue(value: string): string {
  return value.length > QUOTED_SEGMENT_MAX_CHARS ? `'${value.slice(0, QUOTED_SEGMENT_MAX_CHARS)}…'` : `'${value}'`;
}

/**
 * Split a raw request target `/{app}/{service}/{rest}?{query}`. Throws `InputError` when the app or
 * the service segment is missing.
 */
export function parseGatewayPath(url: string): GatewayPath {
  const queryAt = url.indexOf('?');
  const path = queryAt === -1 ? url : url.slice(0, queryAt);
  const query = queryAt === -1 ? '' : url.slice(queryAt + 1);

  if (!path.startsWith('/')) {
    throw new InputError(`request path must start with '/', got ${quoteValue(path)}`);
  }
  const appEnd = path.indexOf('/', 1);
  const app = appEnd === -1 ? path.slice(1) : path.slice(1, appEnd);
  if (app === '') {
    throw new InputError('request path must be /{app}/{service}/{path}, the application segment is missing');
  }

  const serviceEnd = appEnd === -1 ? -1 : path.indexOf('/', appEnd + 1);
  const service = appEnd === -1 ? '' : path.slice(appEnd + 1, serviceEnd === -1 ? undefined : serviceEnd);
  if (service === '') {
    throw new InputError(`request path must be /{app}/{service}/{path}, the service segment is missing after /${app}`);
  }

  const rest = serviceEnd === -1 ? '' : path.slice(serviceEnd);
  return { app, service, rest, query };
}
