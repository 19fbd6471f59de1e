import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, InputError, NotFoundError, UpstreamError, UpstreamTimeoutError } from '../../shared/errors/errors.ts';
import { EgressDeniedError } from '../../shared/egress/egress-policy.ts';
import type { ServiceRecord } from '../../shared/model/service-record.ts';
import { DEFAULT_RETRY_BUFFER_BYTES, DEFAULT_TARGET_TIMEOUT_MS, parseGatewayConfig } from '../../services/gateway/config.ts';
import { toCookieHeader } from '../../services/gateway/csrf-token.ts';
import { addMissingHeaders, mergeCookies, toCallerResponseHeaders, toTargetRequestHeaders } from '../../services/gateway/forwarded-headers.ts';
import { parseGatewayPath } from '../../services/gateway/gateway-path.ts';
import { toClientBasicAuthorization, tokenLifetimeMs } from '../../services/gateway/oauth-token.ts';
import { buildServiceIndex, resolveService } from '../../services/gateway/service-index.ts';
import { SingleFlightCache } from '../../services/gateway/single-flight-cache.ts';
import { assertLiteralAddressAllowed } from '../../services/gateway/target-agents.ts';
import { TargetTimeoutError, toOutboundFailure } from '../../services/gateway/target-errors.ts';
import { buildTargetPath, parseTargetBase, rewriteLocation } from '../../services/gateway/target-url.ts';

const POLICY = { allowLoopback: false, allowPrivate: false, allowLinkLocal: false, allowedHosts: [] };

function record(application: string, normalizedName: string, id: string, withApi = true): ServiceRecord {
  return {
    id,
    application,
    provider: 'p',
    name: normalizedName,
    normalizedName,
    description: '',
    labels: {},
    ...(withApi ? { api: { targetUrl: 'https://erp.example/api' } } : {}),
    createdAt: '',
    updatedAt: '',
  };
}

describe('parseGatewayPath', () => {
  it('splits app, service, rest and query', () => {
    assert.deepEqual(parseGatewayPath("/shop/odata/Orders('1')/x%2Fy?$top=1"), { app: 'shop', service: 'odata', rest: "/Orders('1')/x%2Fy", query: '$top=1' });
    assert.deepEqual(parseGatewayPath('/shop/odata'), { app: 'shop', service: 'odata', rest: '', query: '' });
    assert.deepEqual(parseGatewayPath('/shop/odata/?a'), { app: 'shop', service: 'odata', rest: '/', query: 'a' });
  });

  it('rejects missing segments', () => {
    for (const url of ['/', '/shop', '/shop/', '//x', '/shop//x', 'shop/odata', '*']) {
      assert.throws(() => parseGatewayPath(url), InputError, url);
    }
  });
});

describe('resolveService', () => {
  const index = buildServiceIndex([record('shop', 'orders', '1'), record('shop', 'stock', '2'), record('shop', 'stock', '3'), record('shop', 'events', '4', false)]);

  it('finds the one service', () => {
    assert.equal(resolveService(index, 'shop', 'orders').id, '1');
  });

  it('rejects unknown, shared and API-less names', () => {
    assert.throws(() => resolveService(index, 'crm', 'orders'), NotFoundError);
    assert.throws(() => resolveService(index, 'shop', 'billing'), NotFoundError);
    assert.throws(() => resolveService(index, 'shop', 'stock'), /shared by services 2, 3/);
    assert.throws(() => resolveService(index, 'shop', 'events'), /has no API to call/);
  });
});

describe('buildTargetPath', () => {
  const cases: [string, string, string, Record<string, string[]> | undefined, string][] = [
    ['https://erp.example/api', '/Orders', '', undefined, '/api/Orders'],
    ['https://erp.example/api/', '//Orders', '', undefined, '/api/Orders'],
    ['https://erp.example/api', '', '', undefined, '/api'],
    ['https://erp.example/api', '/', '', undefined, '/api/'],
    ['https://erp.example', '', '', undefined, '/'],
    ['https://erp.example/api?client=1', '/x', 'a=%2F', undefined, '/api/x?client=1&a=%2F'],
    ['https://erp.example/api', '/x', 'page=2', { page: ['1'], lang: ['en', 'de'] }, '/api/x?page=2&lang=en&lang=de'],
    ['https://erp.example/api', '/x', '', { 'a b': ['c&d'] }, '/api/x?a%20b=c%26d'],
  ];

  for (const [targetUrl, rest, query, parameters, expected] of cases) {
    it(`${targetUrl} + ${rest || "''"} ? ${query || "''"}`, () => {
      assert.equal(buildTargetPath(parseTargetBase(targetUrl), rest, query, parameters), expected);
    });
  }
});

describe('rewriteLocation', () => {
  const base = parseTargetBase('https://erp.example/api/v1');
  const requestUrl = new URL('https://erp.example/api/v1/Orders');

  it('rewrites locations under the base path', () => {
    assert.equal(rewriteLocation('https://erp.example/api/v1/Orders(1)?x=1', requestUrl, base, '/shop/erp'), '/shop/erp/Orders(1)?x=1');
    assert.equal(rewriteLocation('/api/v1', requestUrl, base, '/shop/erp'), '/shop/erp');
    assert.equal(rewriteLocation('Items', requestUrl, base, '/shop/erp'), '/shop/erp/Items');
  });

  it('leaves other locations alone', () => {
    assert.equal(rewriteLocation('https://erp.example/api/v10', requestUrl, base, '/shop/erp'), undefined);
    assert.equal(rewriteLocation('https://login.example/api/v1', requestUrl, base, '/shop/erp'), undefined);
    assert.equal(rewriteLocation('http://erp.example/api/v1', requestUrl, base, '/shop/erp'), undefined);
    assert.equal(rewriteLocation('http://[bad', requestUrl, base, '/shop/erp'), undefined);
  });
});

describe('forwarded headers', () => {
  it('drops hop-by-hop and caller-only headers', () => {
    const headers = toTargetRequestHeaders(
      {
        connection: 'close, X-Listed',
        'x-listed': '1',
        'proxy-authorization': 'x',
        upgrade: 'websocket',
        trailer: 'x',
        'transfer-encoding': 'chunked',
        host: 'gw',
        'x-forwarded-client-cert': 'Hash=1',
        'access-token': 't',
        authorization: 'Bearer workload',
        accept: 'application/json',
      },
      true,
    );
    assert.deepEqual(headers, { accept: 'application/json' });
  });

  it('keeps the caller Authorization unless consumed', () => {
    assert.equal(toTargetRequestHeaders({ authorization: 'Basic x' }, false).authorization, 'Basic x');
  });

  it('adds only missing registered headers', () => {
    const headers: Record<string, string | string[]> = { 'x-a': 'caller' };
    addMissingHeaders(headers, { 'X-A': ['registered'], 'X-B': ['1', '2'], 'X-Empty': [] });
    assert.deepEqual(headers, { 'x-a': 'caller', 'x-b': ['1', '2'] });
  });

  it('filters response headers', () => {
    assert.deepEqual(toCallerResponseHeaders({ connection: 'x-h', 'x-h': '1', 'keep-alive': 'timeout=5', etag: '"1"' }), { etag: '"1"' });
  });

  it('merges cookies after the caller ones', () => {
    const headers: Record<string, string> = { cookie: 'a=1' };
    mergeCookies(headers, 'session=2');
    assert.equal(headers.cookie, 'a=1; session=2');
    const empty: Record<string, string> = {};
    mergeCookies(empty, 'session=2');
    assert.equal(empty.cookie, 'session=2');
  });

  it('reduces Set-Cookie to name=value pairs', () => {
    assert.equal(toCookieHeader(['s=1; Path=/; HttpOnly', 'lb=a; Secure', 'broken']), 's=1; lb=a');
    assert.equal(toCookieHeader(undefined), '');
  });
});

describe('oauth helpers', () => {
  it('form-encodes id and secret before Basic', () => {
    const value = toClientBasicAuthorization('client id', 'se:cr+et%');
    assert.equal(Buffer.from(value.slice('Basic '.length), 'base64').toString('utf8'), 'client+id:se%3Acr%2Bet%25');
  });

  it('keeps a token for expires_in minus the margin', () => {
    assert.equal(tokenLifetimeMs(3600, 30_000, 60_000), 3_570_000);
    assert.equal(tokenLifetimeMs(10, 30_000, 60_000), 5000);
    assert.equal(tokenLifetimeMs(undefined, 30_000, 60_000), 60_000);
  });
});

describe('SingleFlightCache', () => {
  it('shares one load and expires on the pinned clock', async () => {
    let now = 1000;
    let loads = 0;
    const cache = new SingleFlightCache<string>(() => now);
    const load = (): Promise<{ value: string; expiresAt: number }> => {
      loads++;
      return Promise.resolve({ value: `token-${loads}`, expiresAt: now + 500 });
    };

    const values = await Promise.all([cache.get('k', load), cache.get('k', load), cache.get('k', load)]);
    assert.deepEqual(values, ['token-1', 'token-1', 'token-1']);
    now += 499;
    assert.equal(await cache.get('k', load), 'token-1');
    now += 1;
    assert.equal(await cache.get('k', load), 'token-2');
    assert.equal(loads, 2);
  });

  it('drops a value only while it is current', async () => {
    const cache = new SingleFlightCache<string>(() => 0);
    let next = 'a';
    const load = (): Promise<{ value: string; expiresAt: number }> => Promise.resolve({ value: next, expiresAt: 10 });
    await cache.get('k', load);
    next = 'b';
    cache.invalidate('k', 'stale');
    assert.equal(await cache.get('k', load), 'a');
    cache.invalidate('k', 'a');
    assert.equal(await cache.get('k', load), 'b');
  });

  it('does not cache a failed load', async () => {
    const cache = new SingleFlightCache<string>(() => 0);
    await assert.rejects(cache.get('k', () => Promise.reject(new Error('down'))), /down/);
    assert.equal(await cache.get('k', () => Promise.resolve({ value: 'up', expiresAt: 10 })), 'up');
  });
});

describe('toOutboundFailure', () => {
  const table: [unknown, typeof UpstreamError | typeof UpstreamTimeoutError, string][] = [
    [Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), UpstreamError, 'target x failed: connection refused'],
    [Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), UpstreamError, 'target x failed: connection reset'],
    [Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' }), UpstreamError, 'target x failed: host name cannot be resolved'],
    [Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }), UpstreamError, 'target x failed: TLS handshake failed (DEPTH_ZERO_SELF_SIGNED_CERT: self-signed certificate)'],
    [Object.assign(new Error('alert'), { code: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' }), UpstreamError, 'target x failed: TLS handshake failed (ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: alert)'],
    [new EgressDeniedError('egress policy denies 10.0.0.1'), UpstreamError, 'target x failed: egress policy denies 10.0.0.1'],
    [new TargetTimeoutError('10 ms'), UpstreamTimeoutError, 'target x timed out after 10 ms without a response'],
  ];

  for (const [error, type, message] of table) {
    it(message, () => {
      const failure = toOutboundFailure(error, 'target x');
      assert.ok(failure instanceof type);
      assert.equal(failure.message, message);
    });
  }
});

describe('assertLiteralAddressAllowed', () => {
  it('rejects denied IP literals', () => {
    assert.throws(() => assertLiteralAddressAllowed(new URL('http://169.254.169.254/'), POLICY), /cloud metadata address/);
    assert.throws(() => assertLiteralAddressAllowed(new URL('http://[::1]:80/'), POLICY), /loopback address/);
    assert.throws(() => assertLiteralAddressAllowed(new URL('http://10.1.2.3/'), POLICY), /private address/);
  });

  it('allows host names and listed hosts', () => {
    assert.doesNotThrow(() => assertLiteralAddressAllowed(new URL('https://erp.example/'), POLICY));
    assert.doesNotThrow(() => assertLiteralAddressAllowed(new URL('http://10.1.2.3/'), { ...POLICY, allowedHosts: ['10.1.2.3'] }));
  });
});

describe('parseGatewayConfig', () => {
  it('applies defaults', () => {
    const config = parseGatewayConfig({});
    assert.equal(config.timeoutMs, DEFAULT_TARGET_TIMEOUT_MS);
    assert.equal(config.retryBufferBytes, DEFAULT_RETRY_BUFFER_BYTES);
    assert.ok(Object.isFrozen(config));
  });

  it('rejects invalid values naming the variable', () => {
    assert.throws(() => parseGatewayConfig({ FERRY_GATEWAY_TIMEOUT_MS: '0' }), (error: unknown) => error instanceof ConfigError && /FERRY_GATEWAY_TIMEOUT_MS/.test(error.message));
    assert.throws(() => parseGatewayConfig({ FERRY_GATEWAY_RETRY_BUFFER_BYTES: '1MB' }), /FERRY_GATEWAY_RETRY_BUFFER_BYTES must be a whole number/);
    assert.throws(() => parseGatewayConfig({ FERRY_GATEWAY_TOKEN_EXPIRY_MARGIN_MS: '-1' }), /FERRY_GATEWAY_TOKEN_EXPIRY_MARGIN_MS/);
  });
});
