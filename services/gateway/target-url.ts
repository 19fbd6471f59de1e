import type { RequestParameters } from '../../shared/model/service-record.ts';

/** The parts of a service's `api.targetUrl` that every forwarded request starts from. */
export type TargetBase = {
  url: URL;
  /** Path of the target URL without trailing slashes; empty for the root. */
  basePath: string;
  /** Query of the target URL without its `?`, or empty. */
  baseQuery: string;
};

export function parseTargetBase(targetUrl: string): TargetBase {
  const url = new URL(targetUrl);
  return { url, basePath: url.pathname.replace(/\/+$/, ''), baseQuery: url.search.slice(1) };
}

/** Names of the parameters in a raw query, decoded as `application/x-www-form-urlencoded`. */
function queryNames(query: string): Set<string> {
  return new Set(new URLSearchParams(query).keys());
}

/**
 * Build the request target (path and query) sent to the target. The caller's rest path is appended
 * to the base path with one slash between them and is not decoded, so `Orders('42')` and `%2F`
 * arrive unchanged. The query is the target URL's own query, then the caller's query, then each
 * registered query parameter that the caller did not send.
 */
export function buildTargetPath(base: TargetBase, rest: string, callerQuery: string, parameters: RequestParameters['queryParameters']): string {
  const trimmedRest = rest.replace(/^\/+/, '');
  const path = trimmedRest === '' && rest === '' ? base.basePath || '/' : `${base.basePath}/${trimmedRest}`;

  const parts = [base.baseQuery, callerQuery].filter((part) => part !== '');
  if (parameters !== undefined) {
    const sent = queryNames(callerQuery);
    for (const [name, values] of Object.entries(parameters)) {
      if (sent.has(name)) {
        continue;
      }
      for (const value of values) {
        parts.push(`${encodeURIComponent(name)}=${encodeURIComponent(value)}`);
      }
    }
  }
  return parts.length === 0 ? path : `${path}?${parts.join('&')}`;
}

/**
 * Rewrite a `Location` that points back under the target's base path to the same place under the
 * gateway path `/{app}/{service}`, keeping the query. Returns undefined when the location points
 * elsewhere, so the caller passes it on unchanged.
 */
export function rewriteLocation(location: string, requestUrl: URL, base: TargetBase, gatewayPrefix: string): string | undefined {
  let resolved: URL;
  try {
    resolved = new URL(location, requestUrl);
  } catch {
    return undefined;
  }
  if (resolved.origin !== base.url.origin) {
    return undefined;
  }

  const { pathname } = resolved;
  if (base.basePath !== '' && pathname !== base.basePath && !pathname.startsWith(`${base.basePath}/`)) {
    return undefined;
  }
  const remainder = pathname.slice(base.basePath.length);
  return `${gatewayPrefix}${remainder}${resolved.search}`;
}
