import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { TestNatsServer } from '../helpers/nats-server.ts';
import { GatewayFixture, PROPAGATION_LIMIT_MS } from './gateway-fixture.ts';
import { MOCK_BASIC_PASSWORD, MOCK_BASIC_USER, MockUpstream, type EchoBody } from './mock-upstream.ts';

type ErrorBody = { code: number; error: string };

function errorOf(response: { json: () => unknown }): ErrorBody {
  return response.json() as ErrorBody;
}

function echoOf(response: { json: () => unknown }): EchoBody {
  return response.json() as EchoBody;
}

const BASIC = { username: MOCK_BASIC_USER, password: MOCK_BASIC_PASSWORD };

describe('gateway', () => {
  let nats: TestNatsServer;
  let upstream: MockUpstream;
  let gateway: GatewayFixture;

  before(async () => {
    nats = await TestNatsServer.start();
    upstream = await MockUpstream.start();
    gateway = await GatewayFixture.start(nats.url, { FERRY_GATEWAY_TIMEOUT_MS: '1000' });
    upstream.addClient('shop', 's3:cr+t% x', 3600);
    upstream.addClient('short-lived', 'short', 1);
    upstream.addClient('no-expiry', 'forever', undefined);
  });

  after(async () => {
    await gateway?.stop();
    await upstream?.stop();
    await nats?.stop();
  });

  describe('resolution', () => {
    it('routes a new service and drops a deleted one', async () => {
      const record = await gateway.putService({ app: 'lifecycle', name: 'Orders API', targetUrl: `${upstream.origin}/open` });
      const addedAfterMs = await gateway.waitForStatus('/lifecycle/orders-api/echo', (status) => status === 200);
      assert.ok(addedAfterMs <= PROPAGATION_LIMIT_MS);

      await gateway.deleteService(record);
      const removedAfterMs = await gateway.waitForStatus('/lifecycle/orders-api/echo', (status) => status === 404);
      assert.ok(removedAfterMs <= PROPAGATION_LIMIT_MS);
    });

    it('follows an updated target URL', async () => {
      const record = await gateway.addService({ app: 'moving', name: 'api', targetUrl: `${upstream.origin}/open/echo/v1` });
      assert.equal(echoOf(await gateway.call('/moving/api/x')).url, '/open/echo/v1/x');

      await gateway.putService({ app: 'moving', name: 'api', id: record.id, targetUrl: `${upstream.origin}/open/echo/v2` });
      await gateway.waitUntil('/moving/api/x', (response) => response.status === 200 && echoOf(response).url === '/open/echo/v2/x');
      assert.equal(echoOf(await gateway.call('/moving/api/x')).url, '/open/echo/v2/x');
    });

    it('rejects a path without a service segment', async () => {
      for (const path of ['/', '/commerce', '/commerce/', '//orders']) {
        const response = await gateway.call(path);
        assert.equal(response.status, 400, path);
        assert.equal(errorOf(response).code, 400);
        assert.match(errorOf(response).error, /\/\{app\}\/\{service\}/);
      }
    });

    it('answers 404 for an unknown app', async () => {
      const response = await gateway.call('/no-such-app/orders/x');
      assert.equal(response.status, 404);
      assert.deepEqual(errorOf(response), { code: 404, error: "application 'no-such-app' is unknown or has no registered services" });
    });

    it('answers 404 for an unknown service', async () => {
      await gateway.addService({ app: 'known', name: 'present', targetUrl: `${upstream.origin}/open` });
      const response = await gateway.call('/known/absent/x');
      assert.equal(response.status, 404);
      assert.deepEqual(errorOf(response), { code: 404, error: "application 'known' has no service named 'absent'" });
    });

    it('answers 400 for a shared service name', async () => {
      const first = await gateway.addService({ app: 'twins', name: 'Stock API', targetUrl: `${upstream.origin}/open` });
      const second = await gateway.putService({ app: 'twins', name: 'stock-api', targetUrl: `${upstream.origin}/open` });
      await gateway.waitForStatus('/twins/stock-api/echo', (status) => status === 400);

      const response = await gateway.call('/twins/stock-api/echo');
      assert.equal(errorOf(response).code, 400);
      assert.match(errorOf(response).error, /shared by services/);
      assert.ok(errorOf(response).error.includes(first.id));
      assert.ok(errorOf(response).error.includes(second.id));
    });

    it('answers 400 for a service without an API', async () => {
      await gateway.putService({ app: 'events-only', name: 'catalog' });
      await gateway.waitForStatus('/events-only/catalog/x', (status) => status === 400);
      const response = await gateway.call('/events-only/catalog/x');
      assert.deepEqual(errorOf(response), { code: 400, error: "service 'catalog' of application 'events-only' has no API to call" });
    });

    it('shortens hostile segments in messages', async () => {
      const longName = 'a'.repeat(5000);
      const response = await gateway.call(`/${longName}/svc`);
      assert.equal(response.status, 404);
      assert.ok(errorOf(response).error.length < 200);
    });
  });

  describe('forwarding', () => {
    before(async () => {
      await gateway.addService({ app: 'fwd', name: 'odata', targetUrl: `${upstream.origin}/open/echo/odata/?sap-client=100` });
      await gateway.addService({
        app: 'fwd',
        name: 'params',
        targetUrl: `${upstream.origin}/open/echo`,
        requestParameters: { headers: { 'X-Tenant': ['t1'], 'X-Caller-Wins': ['registered'] }, queryParameters: { lang: ['en'], page: ['1'] } },
      });
    });

    it('keeps OData path bytes exactly', async () => {
      const path = "/Orders('42')/Items%2F7%7Cx?$filter=Name%20eq%20'A%2FB'&$top=2";
      const response = await gateway.call(`/fwd/odata${path}`);
      assert.equal(response.status, 200);
      assert.equal(echoOf(response).url, "/open/echo/odata/Orders('42')/Items%2F7%7Cx?sap-client=100&$filter=Name%20eq%20'A%2FB'&$top=2");
    });

    it('keeps invalid percent sequences', async () => {
      const response = await gateway.call('/fwd/odata/bad%zz%2');
      assert.equal(echoOf(response).url, '/open/echo/odata/bad%zz%2?sap-client=100');
    });

    it('merges the caller query with the target query', async () => {
      const response = await gateway.call('/fwd/odata/x?a=1&b=two');
      assert.equal(echoOf(response).url, '/open/echo/odata/x?sap-client=100&a=1&b=two');
    });

    it('adds request parameters the caller did not send', async () => {
      const response = await gateway.call('/fwd/params/p?page=9', { headers: { 'x-caller-wins': 'caller' } });
      const echo = echoOf(response);
      assert.equal(echo.url, '/open/echo/p?page=9&lang=en');
      assert.equal(echo.headers['x-tenant'], 't1');
      assert.equal(echo.headers['x-caller-wins'], 'caller');
    });

    it('sets Host to the target', async () => {
      const response = await gateway.call('/fwd/params', { headers: { host: 'gateway.internal' } });
      assert.equal(echoOf(response).headers.host, `127.0.0.1:${upstream.port}`);
      assert.equal(echoOf(response).url, '/open/echo?lang=en&page=1');
    });

    it('drops hop-by-hop headers and XFCC', async () => {
      const response = await gateway.call('/fwd/params/h', {
        headers: {
          connection: 'keep-alive, x-hop-listed',
          'x-hop-listed': 'secret',
          'keep-alive': 'timeout=5',
          te: 'trailers',
          'proxy-authorization': 'Basic eDp5',
          'x-forwarded-client-cert': 'Hash=abc;Subject="CN=evil"',
          'x-end-to-end': 'kept',
          traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        },
      });
      const { headers } = echoOf(response);
      for (const name of ['x-hop-listed', 'keep-alive', 'te', 'proxy-authorization', 'x-forwarded-client-cert']) {
        assert.equal(headers[name], undefined, name);
      }
      assert.equal(headers['x-end-to-end'], 'kept');
      assert.equal(headers.traceparent, '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
      assert.equal(response.headers['x-upstream-hop'], undefined);
      assert.equal(response.headers['keep-alive'] === 'timeout=5', false);
      assert.equal(response.headers['set-cookie']?.[0], 'upstream=1');
    });

    it('passes the request id both ways', async () => {
      const response = await gateway.call('/fwd/params/id', { headers: { 'x-request-id': 'order-42.trace' } });
      assert.equal(response.headers['x-request-id'], 'order-42.trace');
      assert.equal(echoOf(response).headers['x-request-id'], 'order-42.trace');

      const failure = await gateway.call('/fwd/missing/id', { headers: { 'x-request-id': 'bad id with spaces' } });
      assert.equal(failure.status, 404);
      assert.match(String(failure.headers['x-request-id']), /^[0-9a-f-]{36}$/);
    });

    it('forwards method and body both ways', async () => {
      const body = Buffer.alloc(3 * 1024 * 1024, 'ferry-');
      for (const method of ['POST', 'PUT', 'PATCH']) {
        const response = await gateway.call('/fwd/params/body', { method, body, headers: { 'content-type': 'text/plain' } });
        const echo = echoOf(response);
        assert.equal(echo.method, method);
        assert.equal(createHash('sha256').update(echo.body).digest('hex'), createHash('sha256').update(body).digest('hex'));
        assert.equal(echo.headers['content-type'], 'text/plain');
      }
    });

    it('forwards a DELETE body', async () => {
      const response = await gateway.call('/fwd/params/body', { method: 'DELETE', body: 'gone' });
      assert.equal(echoOf(response).method, 'DELETE');
      assert.equal(echoOf(response).body, 'gone');
    });

    it('forwards a chunked body', async () => {
      const response = await gateway.call('/fwd/params/chunked', { method: 'POST', body: 'chunk-body', headers: { 'transfer-encoding': 'chunked' } });
      assert.equal(echoOf(response).body, 'chunk-body');
    });
  });

  describe('oauth', () => {
    before(async () => {
      await gateway.addService({
        app: 'oa',
        name: 'shop',
        targetUrl: `${upstream.origin}/oauth`,
        credentials: {
          oauth: {
            url: `${upstream.origin}/oauth/token?realm=r1`,
            clientId: 'shop',
            clientSecret: 's3:cr+t% x',
            requestParameters: { headers: { 'X-Token-Tenant': ['t9'] }, queryParameters: { audience: ['erp'] } },
          },
        },
      });
    });

    it('fetches one token for 100 calls', async () => {
      upstream.tokenCalls.delete('shop');
      const responses = await Promise.all(Array.from({ length: 100 }, (_, i) => gateway.call(`/oa/shop/echo/${i}`)));
      for (const response of responses) {
        assert.equal(response.status, 200);
        assert.match(String(echoOf(response).headers.authorization), /^Bearer [0-9a-f]{32}$/);
      }
      assert.equal(upstream.tokenCalls.get('shop'), 1);
    });

    it('sends form and Basic client credentials', () => {
      const request = upstream.lastTokenRequest!;
      assert.equal(request.form.get('grant_type'), 'client_credentials');
      assert.equal(request.form.get('client_id'), 'shop');
      assert.equal(request.form.get('client_secret'), 's3:cr+t% x');
      const basic = Buffer.from(String(request.headers.authorization).slice('Basic '.length), 'base64').toString('utf8');
      assert.equal(basic, 'shop:s3%3Acr%2Bt%25+x');
    });

    it('adds oauth request parameters to the token call', () => {
      const request = upstream.lastTokenRequest!;
      assert.equal(request.url, '/oauth/token?realm=r1&audience=erp');
      assert.equal(request.headers['x-token-tenant'], 't9');
    });

    it('fetches a new token after expiry', async () => {
      await gateway.addService({
        app: 'oa',
        name: 'short',
        targetUrl: `${upstream.origin}/oauth`,
        credentials: { oauth: { url: `${upstream.origin}/oauth/token`, clientId: 'short-lived', clientSecret: 'short' } },
      });
      const callsBefore = upstream.tokenCalls.get('short-lived') ?? 0;
      assert.equal((await gateway.call('/oa/short/echo')).status, 200);
      assert.equal((await gateway.call('/oa/short/echo')).status, 200);
      assert.equal(upstream.tokenCalls.get('short-lived'), callsBefore + 1);

      await new Promise((resolve) => setTimeout(resolve, 1100));
      assert.equal((await gateway.call('/oa/short/echo')).status, 200);
      assert.equal(upstream.tokenCalls.get('short-lived'), callsBefore + 2);
    });

    it('caches a token without expires_in', async () => {
      await gateway.addService({
        app: 'oa',
        name: 'no-expiry',
        targetUrl: `${upstream.origin}/oauth`,
        credentials: { oauth: { url: `${upstream.origin}/oauth/token`, clientId: 'no-expiry', clientSecret: 'forever' } },
      });
      for (let i = 0; i < 3; i++) {
        assert.equal((await gateway.call('/oa/no-expiry/echo')).status, 200);
      }
      assert.equal(upstream.tokenCalls.get('no-expiry'), 1);
    });

    it('answers 502 for a wrong client secret', async () => {
      await gateway.addService({
        app: 'oa',
        name: 'wrong-secret',
        targetUrl: `${upstream.origin}/oauth`,
        credentials: { oauth: { url: `${upstream.origin}/oauth/token`, clientId: 'shop', clientSecret: 'not-the-secret' } },
      });
      const response = await gateway.call('/oa/wrong-secret/echo');
      assert.equal(response.status, 502);
      assert.equal(errorOf(response).code, 502);
      assert.match(errorOf(response).error, /OAuth token endpoint http:\/\/127\.0\.0\.1:\d+\/oauth\/token returned status 401/);
    });

    it('answers 502 when the token endpoint is down', async () => {
      await gateway.addService({
        app: 'oa',
        name: 'token-down',
        targetUrl: `${upstream.origin}/oauth`,
        credentials: { oauth: { url: 'http://127.0.0.1:1/token', clientId: 'shop', clientSecret: 'x' } },
      });
      const response = await gateway.call('/oa/token-down/echo');
      assert.equal(response.status, 502);
      assert.match(errorOf(response).error, /OAuth token request to http:\/\/127\.0\.0\.1:1\/token failed: connection refused/);
    });

    it('retries a 401 once with a fresh token and the body', async () => {
      await gateway.call('/oa/shop/echo');
      const callsBefore = upstream.tokenCalls.get('shop')!;
      upstream.revokeTokens();

      const response = await gateway.call('/oa/shop/echo/retry', { method: 'POST', body: 'order=42', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      assert.equal(response.status, 200);
      assert.equal(echoOf(response).body, 'order=42');
      assert.equal(upstream.tokenCalls.get('shop'), callsBefore + 1);

      const retryLog = gateway.logLines.map((line) => JSON.parse(line) as Record<string, unknown>).find((entry) => entry.msg === 'target rejected the credentials, retrying with fresh tokens');
      assert.equal(retryLog?.level, 40);
      assert.equal(retryLog?.app, 'oa');
      assert.equal(retryLog?.status, 401);
    });

    it('retries a 401 exactly once', async () => {
      await gateway.addService({
        app: 'oa',
        name: 'always-401',
        targetUrl: `${upstream.origin}/basic`,
        credentials: { oauth: { url: `${upstream.origin}/oauth/token`, clientId: 'shop', clientSecret: 's3:cr+t% x' } },
      });
      const hitsBefore = upstream.hits.get('/basic/echo/once') ?? 0;

      const response = await gateway.call('/oa/always-401/echo/once', { method: 'PUT', body: 'x' });
      assert.equal(response.status, 401);
      assert.deepEqual(response.json(), { error: 'basic credentials required' });
      assert.equal(upstream.hits.get('/basic/echo/once'), hitsBefore + 2);
    });

    it('does not retry a body above the buffer', async () => {
      await gateway.call('/oa/shop/echo');
      upstream.revokeTokens();
      const body = Buffer.alloc(1024 * 1024 + 1, 'x');
      const response = await gateway.call('/oa/shop/echo/large', { method: 'POST', body });
      assert.equal(response.status, 401);
      assert.equal((await gateway.call('/oa/shop/echo')).status, 200);
    });

    it('lets Access-Token replace the configured credentials', async () => {
      const callsBefore = upstream.tokenCalls.get('short-lived') ?? 0;
      await new Promise((resolve) => setTimeout(resolve, 600));
      const response = await gateway.call('/fwd/params/x', { headers: { 'access-token': 'Bearer caller-token' } });
      assert.equal(echoOf(response).headers.authorization, 'Bearer caller-token');
      assert.equal(echoOf(response).headers['access-token'], undefined);

      const oauthResponse = await gateway.call('/oa/short/x', { headers: { 'access-token': 'Bearer caller-token' } });
      assert.equal(oauthResponse.status, 401);
      assert.equal(upstream.tokenCalls.get('short-lived') ?? 0, callsBefore);
    });

    it('never logs the client secret or tokens', () => {
      const logs = gateway.logLines.join('');
      assert.ok(logs.length > 0);
      assert.equal(logs.includes('s3:cr+t% x'), false);
      assert.equal(logs.includes('Bearer '), false);
    });
  });

  describe('basic and csrf', () => {
    before(async () => {
      await gateway.addService({ app: 'ba', name: 'plain', targetUrl: `${upstream.origin}/basic`, credentials: { basic: BASIC } });
      await gateway.addService({
        app: 'ba',
        name: 'csrf',
        targetUrl: `${upstream.origin}/csrf`,
        credentials: { basic: { ...BASIC, csrfInfo: { tokenEndpointURL: `${upstream.origin}/csrf/token` } } },
      });
    });

    it('sends Basic credentials', async () => {
      const response = await gateway.call('/ba/plain/echo', { headers: { authorization: 'Basic caller' } });
      assert.equal(response.status, 200);
      assert.equal(echoOf(response).headers.authorization, `Basic ${Buffer.from(`${MOCK_BASIC_USER}:${MOCK_BASIC_PASSWORD}`).toString('base64')}`);
    });

    it('fetches the CSRF token once and sends header and cookies', async () => {
      const fetchesBefore = upstream.csrfFetches;
      const first = await gateway.call('/ba/csrf/echo', { method: 'POST', body: 'a', headers: { cookie: 'caller=1' } });
      const second = await gateway.call('/ba/csrf/echo', { method: 'POST', body: 'b' });
      assert.equal(first.status, 200);
      assert.equal(second.status, 200);
      assert.equal(upstream.csrfFetches, fetchesBefore + 1);
      assert.match(String(echoOf(first).headers.cookie), /^caller=1; session=[0-9a-f]+; lb=node1$/);
      assert.match(String(echoOf(first).headers['x-csrf-token']), /^[0-9a-f]{16}$/);
    });

    it('retries once after a 403 for a bad CSRF token', async () => {
      await gateway.call('/ba/csrf/echo');
      const fetchesBefore = upstream.csrfFetches;
      upstream.rotateCsrfToken();

      const response = await gateway.call('/ba/csrf/echo/retry', { method: 'POST', body: '{"qty":3}', headers: { 'content-type': 'application/json' } });
      assert.equal(response.status, 200);
      assert.equal(echoOf(response).body, '{"qty":3}');
      assert.equal(upstream.csrfFetches, fetchesBefore + 1);
    });

    it('answers 502 when the CSRF fetch fails', async () => {
      await gateway.addService({
        app: 'ba',
        name: 'csrf-broken',
        targetUrl: `${upstream.origin}/csrf`,
        credentials: { basic: { username: 'wrong', password: 'wrong', csrfInfo: { tokenEndpointURL: `${upstream.origin}/csrf/token` } } },
      });
      const response = await gateway.call('/ba/csrf-broken/echo');
      assert.equal(response.status, 502);
      assert.match(errorOf(response).error, /CSRF token endpoint http:\/\/127\.0\.0\.1:\d+\/csrf\/token returned status 401/);
    });
  });

  describe('responses', () => {
    before(async () => {
      await gateway.addService({ app: 'rs', name: 'open', targetUrl: `${upstream.origin}/open` });
      await gateway.addService({ app: 'rs', name: 'refused', targetUrl: 'http://127.0.0.1:1/api' });
    });

    it('maps a target 5xx to 502', async () => {
      for (const status of [500, 503]) {
        const response = await gateway.call(`/rs/open/status/${status}`);
        assert.equal(response.status, 502);
        assert.equal(response.headers['target-system-status'], String(status));
        assert.equal(errorOf(response).code, 502);
        assert.match(errorOf(response).error, new RegExp(`returned status ${status}$`));
      }
    });

    it('passes other statuses with their body', async () => {
      for (const status of [201, 404, 409, 429]) {
        const response = await gateway.call(`/rs/open/status/${status}`);
        assert.equal(response.status, status);
        assert.deepEqual(response.json(), { upstreamStatus: status });
        assert.equal(response.headers['target-system-status'], undefined);
      }
    });

    it('answers 504 for an upstream timeout', async () => {
      const startedAt = Date.now();
      const response = await gateway.call('/rs/open/slow?ms=5000');
      assert.equal(response.status, 504);
      assert.match(errorOf(response).error, /timed out after 1000 ms without a response/);
      assert.ok(Date.now() - startedAt < 4000);
    });

    it('answers 502 for a refused connection', async () => {
      const response = await gateway.call('/rs/refused/x');
      assert.equal(response.status, 502);
      assert.equal(errorOf(response).error, 'target http://127.0.0.1:1/api failed: connection refused');
    });

    it('answers 502 for a reset connection', async () => {
      const response = await gateway.call('/rs/open/reset');
      assert.equal(response.status, 502);
      assert.match(errorOf(response).error, /^target http:\/\/127\.0\.0\.1:\d+\/open failed: connection reset$/);
    });

    it('rewrites redirects into the target', async () => {
      const absolute = await gateway.call('/rs/open/redirect/absolute');
      assert.equal(absolute.status, 302);
      assert.equal(absolute.headers.location, '/rs/open/echo/moved?x=1');

      const relative = await gateway.call('/rs/open/redirect/relative');
      assert.equal(relative.status, 303);
      assert.equal(relative.headers.location, '/rs/open/echo/relative?y=2');

      const created = await gateway.call('/rs/open/redirect/created');
      assert.equal(created.status, 201);
      assert.equal(created.headers.location, '/rs/open/echo/items/7');
    });

    it('passes other redirects unchanged', async () => {
      const otherPath = await gateway.call('/rs/open/redirect/other-path');
      assert.equal(otherPath.status, 302);
      assert.equal(otherPath.headers.location, `${upstream.origin}/elsewhere/page`);

      const otherHost = await gateway.call('/rs/open/redirect/other-host');
      assert.equal(otherHost.status, 307);
      assert.equal(otherHost.headers.location, 'https://example.org/open/echo');
    });

    it('rejects oversized request headers', async () => {
      const response = await gateway.call('/rs/open/echo', { headers: { 'x-big': 'x'.repeat(20_000) } });
      assert.equal(response.status, 431);
    });
  });

  describe('egress', () => {
    it('rejects a metadata address target', async () => {
      await gateway.addService({ app: 'eg', name: 'metadata', targetUrl: 'http://169.254.169.254/latest/meta-data' });
      const response = await gateway.call('/eg/metadata/iam');
      assert.equal(response.status, 502);
      assert.equal(errorOf(response).error, 'target http://169.254.169.254/latest/meta-data failed: egress policy denies 169.254.169.254: 169.254.169.254 is a cloud metadata address');
    });

    it('rejects a metadata address token URL', async () => {
      await gateway.addService({
        app: 'eg',
        name: 'metadata-token',
        targetUrl: `${upstream.origin}/oauth`,
        credentials: { oauth: { url: 'http://169.254.169.254/token', clientId: 'a', clientSecret: 'b' } },
      });
      const response = await gateway.call('/eg/metadata-token/x');
      assert.equal(response.status, 502);
      assert.match(errorOf(response).error, /egress policy denies 169\.254\.169\.254/);
    });
  });

  describe('health', () => {
    it('serves healthz, readyz and metrics', async () => {
      assert.equal((await gateway.call('/healthz')).status, 200);
      const ready = await gateway.call('/readyz');
      assert.equal(ready.status, 200);
      assert.equal((ready.json() as { checks: Record<string, { ok: boolean }> }).checks.services?.ok, true);
      const metrics = await gateway.call('/metrics');
      assert.match(metrics.body, /ferry_http_requests_total\{[^}]*route="\/:app\/:service\/\*"/);
    });
  });
});
