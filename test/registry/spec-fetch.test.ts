import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import type { TestClientCertificate } from '../helpers/pki.ts';
import { RegistryHarness, expectError, readFixture, serviceBody, waitFor } from './harness.ts';

/** Start a local server with the spec endpoints of an external system. */
async function startSpecServer(): Promise<{ server: http.Server; url: string; requests: string[] }> {
  const fixtures = {
    '/specs/commerce-occ-swagger2.yaml': await readFixture('commerce-occ-swagger2.yaml'),
    '/specs/marketplace-saas-openapi3.json': await readFixture('marketplace-saas-openapi3.json'),
    '/odata/$metadata': await readFixture('commerce-inbound-order-odata.edmx'),
  } as Record<string, string>;
  const requests: string[] = [];

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    requests.push(`${req.method} ${url.pathname}${url.search}`);
    const send = (status: number, body: string, type = 'text/plain'): void => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };

    const fixture = fixtures[url.pathname];
    if (fixture !== undefined) {
      send(200, fixture, url.pathname.endsWith('.json') ? 'application/json' : 'application/octet-stream');
      return;
    }
    switch (url.pathname) {
      case '/slow':
        setTimeout(() => send(200, fixtures['/specs/marketplace-saas-openapi3.json']!), 10_000).unref();
        return;
      case '/redirect':
        res.writeHead(302, { location: '/specs/marketplace-saas-openapi3.json' });
        res.end();
        return;
      case '/huge':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"openapi": "3.0.0", "padding": "');
        for (let index = 0; index < 64; index++) {
          res.write('x'.repeat(32 * 1024));
        }
        res.end('"}');
        return;
      case '/html':
        send(200, '<html><body>Please log in</body></html>', 'text/html');
        return;
      case '/basic':
        if (req.headers.authorization === `Basic ${Buffer.from('spec-user:spec-pass').toString('base64')}`) {
          send(200, fixtures['/specs/marketplace-saas-openapi3.json']!, 'application/json');
        } else {
          send(401, 'unauthorized');
        }
        return;
      case '/oauth/token':
        if (req.method === 'POST' && req.headers.authorization === `Basic ${Buffer.from('spec+client:s%26cret').toString('base64')}`) {
          send(200, JSON.stringify({ access_token: 'token-1', expires_in: 60 }), 'application/json');
        } else {
          send(401, '{"error":"invalid_client"}', 'application/json');
        }
        return;
      case '/bearer':
        send(req.headers.authorization === 'Bearer token-1' ? 200 : 401, fixtures['/specs/marketplace-saas-openapi3.json']!, 'application/json');
        return;
      case '/params':
        if (req.headers['x-api-key'] === 'k1' && url.searchParams.get('apikey') === 'q1' && url.searchParams.get('fixed') === '1') {
          send(200, fixtures['/specs/marketplace-saas-openapi3.json']!, 'application/json');
        } else {
          send(403, 'forbidden');
        }
        return;
      default:
        send(404, 'not found');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

describe('registry spec fetch', () => {
  let open: RegistryHarness;
  let strict: RegistryHarness;
  let specs: Awaited<ReturnType<typeof startSpecServer>>;
  let client: TestClientCertificate;

  before(async () => {
    open = await RegistryHarness.start({ FERRY_EGRESS_ALLOW_LOOPBACK: 'true', FERRY_SPEC_FETCH_TIMEOUT_MS: '1000', FERRY_SPEC_MAX_BYTES: String(1024 * 1024) });
    strict = await RegistryHarness.start({}, { nats: open.nats, pki: open.pki, dir: open.dir });
    specs = await startSpecServer();
    client = await open.createApplication('fetch');
    await waitFor(async () => (await strict.external('GET', '/fetch/v1/metadata/services', client)).status === 200, 5000);
  });

  after(async () => {
    await new Promise((resolve) => specs.server.close(resolve));
    await strict.stop({ keepShared: true });
    await open.stop();
  });

  function register(harness: RegistryHarness, name: string, api: Record<string, unknown>): ReturnType<RegistryHarness['external']> {
    return harness.external('POST', '/fetch/v1/metadata/services', client, serviceBody({ name, api: { targetUrl: 'https://target.example', ...api } }));
  }

  async function expectFailure(harness: RegistryHarness, name: string, api: Record<string, unknown>, pattern: RegExp): Promise<void> {
    await expectError(register(harness, name, api), 502, pattern);

    const list = (await harness.external('GET', '/fetch/v1/metadata/services', client)).json() as { name: string }[];
    assert.equal(list.some((service) => service.name === name), false);
  }

  async function apiSpecOf(harness: RegistryHarness, id: string): Promise<{ status: number; body: string; type: string | undefined }> {
    const response = await harness.internal('GET', `/v1/applications/fetch/services/${id}/spec`);
    return { status: response.status, body: response.body, type: response.headers['content-type'] };
  }

  describe('formats', () => {
    it('fetches the Swagger 2.0 YAML', async () => {
      const response = await register(open, 'OCC', { specificationUrl: `${specs.url}/specs/commerce-occ-swagger2.yaml` });
      assert.equal(response.status, 200, response.body);
      const { id } = response.json() as { id: string };

      const spec = await apiSpecOf(open, id);
      assert.equal(spec.status, 200);
      assert.match(spec.type ?? '', /application\/json/);
      assert.deepEqual(JSON.parse(spec.body), parseYaml(await readFixture('commerce-occ-swagger2.yaml')));

      const details = (await open.external('GET', `/fetch/v1/metadata/services/${id}`, client)).json() as { api: { spec: { swagger: string }; specificationUrl: string } };
      assert.equal(details.api.spec.swagger, '2.0');
      assert.equal(details.api.specificationUrl, `${specs.url}/specs/commerce-occ-swagger2.yaml`);
    });

    it('fetches the OpenAPI 3 JSON', async () => {
      const response = await register(open, 'Marketplace', { specificationUrl: `${specs.url}/specs/marketplace-saas-openapi3.json` });
      assert.equal(response.status, 200, response.body);
      const spec = await apiSpecOf(open, (response.json() as { id: string }).id);
      assert.deepEqual(JSON.parse(spec.body), JSON.parse(await readFixture('marketplace-saas-openapi3.json')));
    });

    it('fetches OData $metadata', async () => {
      const response = await register(open, 'Inbound Order', { targetUrl: `${specs.url}/odata/`, apiType: 'ODATA' });
      assert.equal(response.status, 200, response.body);
      assert.ok(specs.requests.includes('GET /odata/$metadata'));

      const spec = await apiSpecOf(open, (response.json() as { id: string }).id);
      assert.match(spec.type ?? '', /application\/xml/);
      assert.equal(spec.body, await readFixture('commerce-inbound-order-odata.edmx'));
    });

    it('rejects documents that are no spec', async () => {
      await expectFailure(open, 'Login Page', { specificationUrl: `${specs.url}/html` }, /is invalid: the XML document is not an OData EDMX document/);
    });

    it('needs no fetch without a spec source', async () => {
      const before = specs.requests.length;
      const response = await register(open, 'No Spec', {});
      assert.equal(response.status, 200);
      assert.equal(specs.requests.length, before);
      assert.equal((await apiSpecOf(open, (response.json() as { id: string }).id)).status, 404);
    });
  });

  describe('failures', () => {
    it('reports a 404', async () => {
      await expectFailure(open, 'Missing', { specificationUrl: `${specs.url}/missing` }, /cannot fetch the spec from http:\/\/127\.0\.0\.1:\d+\/missing: expected status 200, got 404/);
    });

    it('does not follow redirects', async () => {
      await expectFailure(open, 'Moved', { specificationUrl: `${specs.url}/redirect` }, /expected status 200, got 302/);
    });

    it('times out', async () => {
      const started = Date.now();
      await expectFailure(open, 'Slow', { specificationUrl: `${specs.url}/slow` }, /no complete response within 1000 ms/);
      // The server responds after 10 s, so a failure this early means the timeout ended the request.
      assert.ok(Date.now() - started < 8000);
    });

    it('caps the size while streaming', async () => {
      await expectFailure(open, 'Huge', { specificationUrl: `${specs.url}/huge` }, /exceeds the limit of 1048576 bytes/);
    });

    it('reports refused connections', async () => {
      const closed = http.createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const port = (closed.address() as AddressInfo).port;
      await new Promise((resolve) => closed.close(resolve));
      await expectFailure(open, 'Closed', { specificationUrl: `http://127.0.0.1:${port}/spec` }, /ECONNREFUSED/);
    });
  });

  describe('credentials', () => {
    it('sends basic credentials', async () => {
      const response = await register(open, 'Basic Spec', {
        specificationUrl: `${specs.url}/basic`,
        specificationCredentials: { basic: { username: 'spec-user', password: 'spec-pass' } },
      });
      assert.equal(response.status, 200, response.body);
      await expectFailure(
        open,
        'Wrong Basic',
        { specificationUrl: `${specs.url}/basic`, specificationCredentials: { basic: { username: 'spec-user', password: 'wrong' } } },
        /got 401/,
      );
    });

    it('gets an OAuth token first', async () => {
      const response = await register(open, 'OAuth Spec', {
        specificationUrl: `${specs.url}/bearer`,
        specificationCredentials: { oauth: { url: `${specs.url}/oauth/token`, clientId: 'spec client', clientSecret: 's&cret' } },
      });
      assert.equal(response.status, 200, response.body);
      assert.ok(specs.requests.includes('POST /oauth/token'));

      await expectFailure(
        open,
        'OAuth Denied',
        { specificationUrl: `${specs.url}/bearer`, specificationCredentials: { oauth: { url: `${specs.url}/oauth/token`, clientId: 'x', clientSecret: 'y' } } },
        /OAuth token request to .* returned status 401/,
      );
    });

    it('sends request parameters', async () => {
      const response = await register(open, 'Param Spec', {
        specificationUrl: `${specs.url}/params?fixed=1`,
        specificationRequestParameters: { headers: { 'X-Api-Key': ['k1'] }, queryParameters: { apikey: ['q1'] } },
      });
      assert.equal(response.status, 200, response.body);
      assert.ok(specs.requests.includes('GET /params?fixed=1&apikey=q1'));
    });

    it('does not store spec credentials', async () => {
      const response = await register(open, 'Secret Spec', {
        specificationUrl: `${specs.url}/basic`,
        specificationCredentials: { basic: { username: 'spec-user', password: 'spec-pass' } },
      });
      const id = (response.json() as { id: string }).id;
      const entry = await open.service.runtime.resources.kv.services.get(`fetch.${id}`);
      assert.ok(entry);
      assert.equal(entry.string().includes('spec-pass'), false);
    });
  });

  describe('egress policy', () => {
    it('denies loopback addresses', async () => {
      const before = specs.requests.length;
      await expectFailure(strict, 'Loopback', { specificationUrl: `${specs.url}/specs/marketplace-saas-openapi3.json` }, /egress policy denies 127\.0\.0\.1:\d+: 127\.0\.0\.1 is a loopback address/);
      assert.equal(specs.requests.length, before);
    });

    it('denies names that resolve to loopback', async () => {
      const port = new URL(specs.url).port;
      const before = specs.requests.length;
      await expectFailure(strict, 'Localhost', { specificationUrl: `http://localhost:${port}/specs/marketplace-saas-openapi3.json` }, /egress policy denies localhost: .* is a loopback address/);
      assert.equal(specs.requests.length, before);
    });

    it('denies OData targets on loopback', async () => {
      await expectFailure(strict, 'Loopback OData', { targetUrl: `${specs.url}/odata`, apiType: 'odata' }, /loopback address/);
    });

    it('denies the metadata address without connecting', async () => {
      // Node connects to IP literals without a DNS lookup, so this message can only come from the check before connecting.
      await expectFailure(strict, 'Metadata', { specificationUrl: 'http://169.254.169.254/latest/meta-data/' }, /169\.254\.169\.254 is a cloud metadata address/);
      await expectFailure(open, 'Metadata Open', { specificationUrl: 'http://169.254.169.254/latest/meta-data/' }, /cloud metadata address/);
    });

    it('denies OAuth token URLs on metadata addresses', async () => {
      await expectFailure(
        open,
        'Metadata Token',
        { specificationUrl: `${specs.url}/bearer`, specificationCredentials: { oauth: { url: 'http://169.254.169.254/token', clientId: 'x', clientSecret: 'y' } } },
        /OAuth token request .* failed: egress policy denies 169\.254\.169\.254: 169\.254\.169\.254 is a cloud metadata address/,
      );
    });
  });
});
