import { UpstreamError } from '../../../shared/errors/errors.ts';
import type { RequestParameters } from '../../../shared/model/service-record.ts';
import type { ApiInput, SpecificationCredentialsInput } from '../domain/service-input.ts';
import { detectSpecSyntax, parseSpecText, toParsedSpec, type ParsedSpec } from '../domain/spec-format.ts';
import type { EgressHttpClient } from './http-fetch.ts';
import { parseYamlOffThread } from './yaml-worker.ts';

/** Largest OAuth token response the fetcher reads, in bytes. */
const MAX_TOKEN_RESPONSE_BYTES = 64 * 1024;

export type SpecFetchLimits = {
  /** Limit of each HTTP exchange, in milliseconds. */
  timeoutMs: number;
  /** Largest response body, in bytes. */
  maxBytes: number;
  /** Limit of parsing a YAML spec, in milliseconds. */
  parseTimeoutMs: number;
};

/** True when `apiType` names OData, whose spec sits at `<targetUrl>/$metadata`. */
export function isODataApi(api: ApiInput): boolean {
  return api.apiType?.toUpperCase() === 'ODATA';
}

/** Return the URL of the API spec: `specificationUrl`, or `$metadata` for OData, or undefined when there is none. */
export function specSourceUrl(api: ApiInput): string | undefined {
  if (api.specificationUrl !== undefined) {
    return api.specificationUrl;
  }
  return isODataApi(api) ? `${api.targetUrl.replace(/\/+$/, '')}/$metadata` : undefined;
}

/** Add `specificationRequestParameters` query parameters to `url`, after the URL's own. */
function withQueryParameters(url: URL, parameters: RequestParameters | undefined): URL {
  const result = new URL(url);
  for (const [name, values] of Object.entries(parameters?.queryParameters ?? {})) {
    for (const value of values) {
      result.searchParams.append(name, value);
    }
  }
  return result;
}

/** Encode client credentials for HTTP Basic as RFC 6749 §2.3.1 requires: form-encode each part first. */
export function toClientBasicAuth(clientId: string, clientSecret: string): string {
  const encode = (value: string): string => encodeURIComponent(value).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(clientSecret)}`).toString('base64')}`;
}

/** Fetches API specs from external URLs, within the egress policy, a timeout and a size limit. */
export class SpecFetcher {
  constructor(
    private readonly client: EgressHttpClient,
    private readonly limits: SpecFetchLimits,
  ) {}

  /** Fetch and parse the spec at `source`. Throws `UpstreamError` (502) naming the URL and the reason. */
  async fetch(source: string, api: ApiInput): Promise<ParsedSpec> {
    const url = withQueryParameters(new URL(source), api.specificationRequestParameters);
    const headers: Record<string, string | string[]> = {
      accept: 'application/json, application/yaml, application/xml;q=0.9, */*;q=0.5',
      ...api.specificationRequestParameters?.headers,
    };
    const authorization = await this.authorize(api.specificationCredentials, source);
    if (authorization !== undefined) {
      headers.authorization = authorization;
    }

    const result = await this.client.send(url, { method: 'GET', headers, timeoutMs: this.limits.timeoutMs, maxBytes: this.limits.maxBytes });
    if (!result.ok) {
      throw new UpstreamError(`cannot fetch the spec from ${source}: ${result.reason}`);
    }
    if (result.status !== 200) {
      throw new UpstreamError(`cannot fetch the spec from ${source}: expected status 200, got ${result.status}`);
    }

    const parsed = await this.parse(result.body.toString('utf8'));
    if (typeof parsed === 'string') {
      throw new UpstreamError(`the spec fetched from ${source} is invalid: ${parsed}`);
    }
    return parsed;
  }

  /** Parse the fetched text. YAML goes to a worker thread, JSON and XML are parsed here. */
  private async parse(text: string): Promise<ParsedSpec | string> {
    if (detectSpecSyntax(text) !== 'yaml') {
      return parseSpecText(text);
    }

    const result = await parseYamlOffThread(text, this.limits.parseTimeoutMs);
    return result.ok ? toParsedSpec(result.document) : result.reason;
  }

  private async authorize(credentials: SpecificationCredentialsInput | undefined, source: string): Promise<string | undefined> {
    if (credentials?.basic) {
      const { username, password } = credentials.basic;
      return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
    }
    if (credentials?.oauth) {
      return `Bearer ${await this.requestToken(credentials.oauth, source)}`;
    }
    return undefined;
  }

  /** Get an access token with the OAuth 2.0 client credentials grant (RFC 6749 §4.4). */
  private async requestToken(oauth: NonNullable<SpecificationCredentialsInput['oauth']>, source: string): Promise<string> {
    const result = await this.client.send(new URL(oauth.url), {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
        authorization: toClientBasicAuth(oauth.clientId, oauth.clientSecret),
      },
      body: 'grant_type=client_credentials',
      timeoutMs: this.limits.timeoutMs,
      maxBytes: MAX_TOKEN_RESPONSE_BYTES,
    });

    const failure = `cannot fetch the spec from ${source}: the OAuth token request to ${oauth.url}`;
    if (!result.ok) {
      throw new UpstreamError(`${failure} failed: ${result.reason}`);
    }
    if (result.status !== 200) {
      throw new UpstreamError(`${failure} returned status ${result.status}, expected 200`);
    }

    let token: unknown;
    try {
      token = (JSON.parse(result.body.toString('utf8')) as { access_token?: unknown }).access_token;
    } catch {
      token = undefined;
    }
    if (typeof token !== 'string' || token === '') {
      throw new UpstreamError(`${failure} returned no access_token`);
    }
    return token;
  }
}
