import { loadAdminSecret } from '../shared/auth/admin-auth.ts';
import { issueAdminToken } from '../shared/auth/issue-admin-token.ts';
import type { CliConfig } from './config.ts';
import { CommandError } from './usage.ts';

/** Timeout of one internal API call. */
export const ADMIN_REQUEST_TIMEOUT_MS = 30_000;

/** Calls Ferry's internal admin API with a bearer token. */
export class AdminClient {
  private constructor(private readonly token: string) {}

  /** Use the `--token` flag, else `FERRY_ADMIN_TOKEN`, else a token signed with the local secret. */
  static async create(config: CliConfig, tokenFlag: string | undefined): Promise<AdminClient> {
    const explicit = tokenFlag ?? config.adminToken;
    if (explicit !== undefined) {
      return new AdminClient(explicit);
    }
    if (config.common.adminAuth.mode !== 'secret') {
      throw new CommandError('no admin token: pass --token or set FERRY_ADMIN_TOKEN (the OIDC setup has no local secret)');
    }
    const secret = await loadAdminSecret(config.common.adminAuth).catch((error: unknown) => {
      throw new CommandError(`no admin token: pass --token, set FERRY_ADMIN_TOKEN, or run npm start once (${String(error)})`);
    });
    return new AdminClient(await issueAdminToken(secret, { subject: 'ferry-cli', ttlSeconds: 600 }));
  }

  /** Send a request and return the parsed JSON body, or undefined for 204. Non-2xx raises `CommandError` with Ferry's message. */
  async call(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<unknown> {
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(ADMIN_REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      throw new CommandError(`${method} ${url} failed: ${describeFetchError(error)}. Is Ferry running (npm start)?`);
    }
    return readJsonResponse(response, `${method} ${url}`);
  }
}

export function describeFetchError(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    return cause instanceof Error ? cause.message : error.message;
  }
  return String(error);
}

/** Parse a Ferry response. Error bodies `{code, error}` become a `CommandError` with the message. */
export async function readJsonResponse(response: Response, what: string): Promise<unknown> {
  const text = await response.text();
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = text;
  }
  if (!response.ok) {
    const message = typeof body === 'object' && body !== null && 'error' in body ? String((body).error) : text.slice(0, 500);
    throw new CommandError(`${what} failed with ${response.status}: ${message}`);
  }
  return body;
}
