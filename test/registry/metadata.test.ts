import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { jetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import pino from 'pino';
import { parse as parseYaml } from 'yaml';
import { KvCache } from '../../shared/nats/kv-cache.ts';
import { KV_BUCKETS } from '../../shared/nats/names.ts';
import { serviceKey, type ServiceRecord } from '../../shared/model/service-record.ts';
import { applicationRevocationKey } from '../../shared/nats/identity-directory.ts';
import type { TestClientCertificate } from '../helpers/pki.ts';
import { RegistryHarness, expectError, readFixture, serviceBody, waitFor } from './harness.ts';

describe('registry metadata API', () => {
  let harness: RegistryHarness;
  let shop: TestClientCertificate;
  let crm: TestClientCertificate;
  let nc: NatsConnection;

  before(async () => {
    harness = await RegistryHarness.start();
    shop = await harness.createApplication('shop');
    crm = await harness.createApplication('crm');
    nc = await connect({ servers: harness.nats.url });
  });

  after(async () => {
    await nc.close();
    await harness.stop();
  });

  async function register(body: unknown, client = shop, app = 'shop'): Promise<string> {
    const response = await harness.external('POST', `/${app}/v1/metadata/services`, client, body);
    assert.equal(response.status, 200, response.body);
    const { id } = response.json() as { id: string };
    assert.match(id, /^[0-9a-f-]{36}$/);
    return id;
  }

  async function storedRecord(app: string, id: string): Promise<ServiceRecord | undefined> {
    const entry = await harness.service.runtime.resources.kv.services.get(serviceKey(app, id));
    return entry === null || entry.operation !== 'PUT' ? undefined : entry.json<ServiceRecord>();
  }

  describe('lifecycle', () => {
    it('registers, lists, reads, updates and deletes', async () => {
      const documentation = { displayName: 'Lifecycle', description: 'docs', type: 'API', tags: ['occ'], docs: [{ title: 'Guide', type: 'md', source: '# Guide' }] };
      const id = await register(serviceBody({ name: 'Lifecycle API', identifier: 'lifecycle', labels: { env: 'prod' }, documentation }));
      const created = await harness.external('GET', `/shop/v1/metadata/services/${id}`, shop);
      assert.deepEqual((created.json() as { documentation: unknown }).documentation, documentation);

      const list = await harness.external('GET', '/shop/v1/metadata/services', shop);
      assert.equal(list.status, 200);
      const item = (list.json() as Record<string, unknown>[]).find((entry) => entry.id === id);
      assert.deepEqual(item, {
        id,
        provider: 'SAP',
        name: 'Lifecycle API',
        description: 'OCC API',
        identifier: 'lifecycle',
        labels: { env: 'prod', 'connected-app': 'shop' },
      });

      const updated = await harness.external('PUT', `/shop/v1/metadata/services/${id}`, shop, serviceBody({ name: 'Lifecycle API', description: 'v2' }));
      assert.equal(updated.status, 200);
      const read = await harness.external('GET', `/shop/v1/metadata/services/${id}`, shop);
      assert.equal((read.json() as { description: string }).description, 'v2');
      assert.equal((read.json() as { identifier?: string }).identifier, undefined);

      const deleted = await harness.external('DELETE', `/shop/v1/metadata/services/${id}`, shop);
      assert.equal(deleted.status, 204);
      assert.equal(await storedRecord('shop', id), undefined);
      await expectError(harness.external('GET', `/shop/v1/metadata/services/${id}`, shop), 404, /not found/);
      await expectError(harness.external('DELETE', `/shop/v1/metadata/services/${id}`, shop), 404, /not found/);
      await expectError(harness.external('PUT', `/shop/v1/metadata/services/${id}`, shop, serviceBody()), 404, /not found/);
    });

    it('frees the name and identifier on delete', async () => {
      const body = serviceBody({ name: 'Reusable', identifier: 'reusable' });
      const id = await register(body);
      assert.equal((await harness.external('DELETE', `/shop/v1/metadata/services/${id}`, shop)).status, 204);
      const again = await register(body);
      assert.notEqual(again, id);
    });

    it('answers 404 for hostile ids', async () => {
      for (const id of ['*', '>', 'a.b', '..', 'x'.repeat(200)]) {
        const response = await harness.external('GET', `/shop/v1/metadata/services/${encodeURIComponent(id)}`, shop);
        assert.equal(response.status, 404, id);
      }
    });
  });

  describe('validation', () => {
    it('rejects an empty body', async () => {
      await expectError(harness.external('POST', '/shop/v1/metadata/services', shop), 400, /request body is empty/);
    });

    it('rejects a body that is not JSON', async () => {
      await expectError(harness.external('POST', '/shop/v1/metadata/services', shop, '{"provider": '), 400, /not valid JSON/);
      await expectError(harness.external('POST', '/shop/v1/metadata/services', shop, 'provider: SAP'), 400, /not valid JSON/);
    });

    it('rejects non-object bodies', async () => {
      await expectError(harness.external('POST', '/shop/v1/metadata/services', shop, '[]'), 400, /body must be a JSON object, got an array/);
      await expectError(harness.external('POST', '/shop/v1/metadata/services', shop, '"text"'), 400, /not valid JSON/);
    });

    it('lists every missing field', async () => {
      await expectError(harness.external('POST', '/shop/v1/metadata/services', shop, {}), 400, /provider is required; name is required; description is required/);
    });

    it('rejects wrong types', async () => {
      const body = serviceBody({ name: ['x'], description: null, api: { targetUrl: 42 } });
      await expectError(
        harness.external('POST', '/shop/v1/metadata/services', shop, body),
        400,
        /name must be of type string, got an array.*description must be of type string, got null.*api\.targetUrl must be of type string, got number 42/,
      );
    });

    it('requires api or events', async () => {
      const body = serviceBody();
      delete body.api;
      await expectError(harness.external('POST', '/shop/v1/metadata/services', shop, body), 400, /must have api or events/);
    });

    it('requires an absolute target URL', async () => {
      await expectError(
        harness.external('POST', '/shop/v1/metadata/services', shop, serviceBody({ api: { targetUrl: 'javascript:alert(1)' } })),
        400,
        /api\.targetUrl must be an absolute http\(s\) URL, got 'javascript:alert\(1\)'/,
      );
    });

    it('rejects two credential types', async () => {
      const credentials = { oauth: { url: 'https://auth.example', clientId: 'c', clientSecret: 's' }, basic: { username: 'u', password: 'p' } };
      await expectError(
        harness.external('POST', '/shop/v1/metadata/services', shop, serviceBody({ api: { targetUrl: 'https://x.example', credentials } })),
        400,
        /api\.credentials must contain at most one of oauth, basic, certificateGen, got oauth, basic/,
      );
    });

    it('rejects a YAML string as inline spec', async () => {
      const yaml = await readFixture('commerce-events-asyncapi1.yaml');
      await expectError(harness.external('POST', '/shop/v1/metadata/services', shop, serviceBody({ events: { spec: yaml } })), 400, /events\.spec must be a JSON object/);
      await expectError(
        harness.external('POST', '/shop/v1/metadata/services', shop, serviceBody({ api: { targetUrl: 'https://x.example', spec: 'swagger: "2.0"' } })),
        400,
        /api\.spec must be a JSON object/,
      );
    });

    it('rejects events specs that are not AsyncAPI', async () => {
      await expectError(
        harness.external('POST', '/shop/v1/metadata/services', shop, serviceBody({ events: { spec: { openapi: '3.0.0' } } })),
        400,
        /events\.spec must be an AsyncAPI 1\.x or 2\.x document, got no asyncapi field/,
      );
    });

    it('rejects invalid header parameters', async () => {
      const injected = { targetUrl: 'https://x.example', requestParameters: { headers: { 'X-Api-Key': ['a\r\nX-Injected: 1'] } } };
      await expectError(harness.external('POST', '/shop/v1/metadata/services', shop, serviceBody({ api: injected })), 400, /api\.requestParameters\.headers\.X-Api-Key\[0\] has an invalid value/);

      const badName = { targetUrl: 'https://x.example', specificationRequestParameters: { headers: { 'Bad Header': ['v'] } } };
      await expectError(harness.external('POST', '/shop/v1/metadata/services', shop, serviceBody({ api: badName })), 400, /^api\.specificationRequestParameters\.headers has an invalid name 'Bad Header'$/);
    });

    it('rejects oversized fields', async () => {
      await expectError(harness.external('POST', '/shop/v1/metadata/services', shop, serviceBody({ name: 'n'.repeat(600) })), 400, /name must be at most 512 characters/);
    });

    it('rejects deeply nested bodies', async () => {
      for (const levels of [300, 100_000]) {
        const spec = '{"openapi":"3.0.0","x":' + '{"a":'.repeat(levels) + '1' + '}'.repeat(levels) + '}';
        const body = `{"provider":"SAP","name":"Deep","description":"d","api":{"targetUrl":"https://x.example","spec":${spec}}}`;
        await expectError(harness.external('POST', '/shop/v1/metadata/services', shop, body), 400, /nests objects or arrays deeper than 256 levels/);
      }
    });

    it('ignores unknown fields', async () => {
      const id = await register(serviceBody({ name: 'Unknown Fields', extra: { nested: true }, api: { targetUrl: 'https://x.example', bogus: 1 } }));
      const record = await storedRecord('shop', id);
      assert.equal(JSON.stringify(record).includes('bogus'), false);
      assert.equal(JSON.stringify(record).includes('extra'), false);
    });

    it('treats empty credentials as none', async () => {
      const id = await register(serviceBody({ name: 'No Auth', api: { targetUrl: 'https://x.example', credentials: {} } }));
      const record = await storedRecord('shop', id);
      assert.equal(record?.api?.credentials, undefined);
      assert.equal(record?.api?.credentialType, undefined);
    });

    it('rejects a 20 MB body with 413', async () => {
      const filler = 'x'.repeat(20 * 1024 * 1024);
      const body = JSON.stringify(serviceBody({ name: 'Huge', description: filler }));
      await expectError(harness.external('POST', '/shop/v1/metadata/services', shop, body), 413, /exceeds the limit of 16777216 bytes/);
    });

    it('accepts a multi-megabyte inline spec', async () => {
      const swagger = parseYaml(await readFixture('commerce-occ-swagger2.yaml')) as Record<string, unknown>;
      const paths = swagger.paths as Record<string, unknown>;
      // Repeat the paths under new prefixes until the spec is about 6 MB.
      const big = { ...swagger, paths: { ...paths } };
      for (let copy = 0; JSON.stringify(big).length < 6 * 1024 * 1024; copy++) {
        for (const [path, item] of Object.entries(paths)) {
          (big.paths as Record<string, unknown>)[`/copy${copy}${path}`] = item;
        }
      }

      const id = await register(serviceBody({ name: 'Big Spec', api: { targetUrl: 'https://x.example', spec: big } }));
      const spec = await harness.internal('GET', `/v1/applications/shop/services/${id}/spec`);
      assert.equal(spec.status, 200);
      assert.equal(spec.body.length, JSON.stringify(big).length);
      assert.deepEqual(JSON.parse(spec.body), big);
    });
  });

  describe('uniqueness', () => {
    it('rejects a duplicate identifier with 409', async () => {
      await register(serviceBody({ name: 'First', identifier: 'dup-id' }));
      await expectError(
        harness.external('POST', '/shop/v1/metadata/services', shop, serviceBody({ name: 'Second', identifier: 'dup-id' })),
        409,
        /identifier 'dup-id' is already used/,
      );
    });

    it('allows the same identifier in another application', async () => {
      await register(serviceBody({ name: 'Cross App', identifier: 'cross-id' }));
      await register(serviceBody({ name: 'Cross App', identifier: 'cross-id' }), crm, 'crm');
    });

    it('rejects names that normalize alike with 400', async () => {
      await register(serviceBody({ name: 'Order Service' }));
      await expectError(
        harness.external('POST', '/shop/v1/metadata/services', shop, serviceBody({ name: 'order_service!' })),
        400,
        /name 'order_service!' normalizes to 'order-service', which another service/,
      );
    });

    it('rejects a rename onto a sibling name', async () => {
      await register(serviceBody({ name: 'Alpha API' }));
      const beta = await register(serviceBody({ name: 'Beta API' }));
      await expectError(harness.external('PUT', `/shop/v1/metadata/services/${beta}`, shop, serviceBody({ name: 'ALPHA-api' })), 400, /normalizes to 'alpha-api'/);
      assert.equal((await storedRecord('shop', beta))?.name, 'Beta API');
    });

    it('lets exactly one racing create win an identifier', async () => {
      const bodies = Array.from({ length: 6 }, (_, index) => serviceBody({ name: `Racer ${index}`, identifier: 'race-id' }));
      const responses = await Promise.all(bodies.map((body) => harness.external('POST', '/shop/v1/metadata/services', shop, body)));
      const statuses = responses.map((response) => response.status).sort();
      assert.deepEqual(statuses, [200, 409, 409, 409, 409, 409]);
    });

    it('lets exactly one racing create win a name', async () => {
      const bodies = ['Race Name', 'race name', 'RACE-NAME', 'race_name'].map((name) => serviceBody({ name }));
      const responses = await Promise.all(bodies.map((body) => harness.external('POST', '/shop/v1/metadata/services', shop, body)));
      const statuses = responses.map((response) => response.status).sort();
      assert.deepEqual(statuses, [200, 400, 400, 400]);
    });
  });

  describe('concurrent updates', () => {
    it('never loses a write silently', async () => {
      const id = await register(serviceBody({ name: 'Contended' }));

      for (let round = 0; round < 5; round++) {
        const descriptions = [`a-${round}`, `b-${round}`, `c-${round}`];
        const responses = await Promise.all(
          descriptions.map((description) => harness.external('PUT', `/shop/v1/metadata/services/${id}`, shop, serviceBody({ name: 'Contended', description }))),
        );
        const winners = descriptions.filter((_, index) => responses[index]!.status === 200);
        for (const response of responses) {
          assert.ok(response.status === 200 || response.status === 409, response.body);
        }
        assert.ok(winners.length >= 1);

        const stored = await storedRecord('shop', id);
        // The stored value is always one of the accepted writes, never one that got 409.
        assert.ok(winners.includes(stored!.description), `${stored!.description} not in ${winners.join(',')}`);
        const conflict = responses.find((response) => response.status === 409);
        if (conflict) {
          assert.match((conflict.json() as { error: string }).error, /changed by another request/);
        }
      }
    });
  });

  describe('credentials', () => {
    it('masks secrets and encrypts them at rest', async () => {
      const credentials = {
        oauth: { url: 'https://auth.example/token', clientId: 'client-id-1', clientSecret: 'client-secret-1', csrfInfo: { tokenEndpointURL: 'https://x.example/csrf' } },
      };
      const id = await register(serviceBody({ name: 'OAuth API', api: { targetUrl: 'https://x.example', credentials } }));

      const read = await harness.external('GET', `/shop/v1/metadata/services/${id}`, shop);
      const api = (read.json() as { api: { credentials: unknown } }).api;
      assert.deepEqual(api.credentials, {
        oauth: { url: 'https://auth.example/token', clientId: '********', clientSecret: '********', csrfInfo: { tokenEndpointURL: 'https://x.example/csrf' } },
      });

      const record = await storedRecord('shop', id);
      assert.equal(record?.api?.credentialType, 'oauth');
      assert.equal(record?.api?.credentials?.kid, 'test');
      assert.equal(JSON.stringify(record).includes('client-secret-1'), false);
      assert.equal(JSON.stringify(record).includes('client-id-1'), false);
      assert.equal(harness.logs.lines.some((line) => line.includes('client-secret-1')), false);
    });

    it('keeps stored secrets when the mask is sent back', async () => {
      const credentials = { basic: { username: 'user-1', password: 'password-1' } };
      const id = await register(serviceBody({ name: 'Basic API', api: { targetUrl: 'https://x.example', credentials } }));

      const masked = { basic: { username: '********', password: '********' } };
      const put = await harness.external('PUT', `/shop/v1/metadata/services/${id}`, shop, serviceBody({ name: 'Basic API', api: { targetUrl: 'https://x.example', credentials: masked } }));
      assert.equal(put.status, 200);

      const record = await storedRecord('shop', id);
      const plain = JSON.parse(JSON.stringify(record?.api?.credentials)) as { data: string };
      assert.equal(plain.data.includes('password-1'), false);
      const decrypted = await harness.service.runtime.resources.kv.services.get(serviceKey('shop', id));
      assert.ok(decrypted);
      assert.equal(record?.api?.credentialType, 'basic');
    });

    it('generates a client certificate', async () => {
      const credentials = { certificateGen: { commonName: 'shop-target-client' } };
      const id = await register(serviceBody({ name: 'Cert API', api: { targetUrl: 'https://x.example', credentials } }));

      const read = await harness.external('GET', `/shop/v1/metadata/services/${id}`, shop);
      const generated = (read.json() as { api: { credentials: { certificateGen: { commonName: string; certificate: string; privateKey?: string } } } }).api.credentials.certificateGen;
      assert.equal(generated.commonName, 'shop-target-client');
      assert.equal(generated.privateKey, undefined);
      assert.equal(read.body.includes('PRIVATE KEY'), false);

      const certificate = new X509Certificate(generated.certificate);
      assert.match(certificate.subject, /CN=shop-target-client/);
      assert.ok(certificate.checkIssued(new X509Certificate(harness.pki.ca.certificatePem)));
      assert.ok(certificate.verify(new X509Certificate(harness.pki.ca.certificatePem).publicKey));
      assert.equal(certificate.publicKey.asymmetricKeyDetails?.modulusLength, 2048);

      // An update with the same common name keeps the certificate; a new name makes a new one.
      await harness.external('PUT', `/shop/v1/metadata/services/${id}`, shop, serviceBody({ name: 'Cert API', api: { targetUrl: 'https://x.example', credentials } }));
      const kept = await harness.external('GET', `/shop/v1/metadata/services/${id}`, shop);
      assert.ok(kept.body.includes(JSON.stringify(generated.certificate).slice(1, 80)));

      const renamed = { certificateGen: { commonName: 'other-client' } };
      await harness.external('PUT', `/shop/v1/metadata/services/${id}`, shop, serviceBody({ name: 'Cert API', api: { targetUrl: 'https://x.example', credentials: renamed } }));
      const replaced = await harness.external('GET', `/shop/v1/metadata/services/${id}`, shop);
      assert.match(replaced.body, /other-client/);
      assert.equal(replaced.body.includes(JSON.stringify(generated.certificate).slice(1, 80)), false);
    });
  });

  describe('inline specs and catalog', () => {
    it('stores specs and builds the catalog', async () => {
      const commerce = parseYaml(await readFixture('commerce-events-asyncapi1.yaml')) as Record<string, unknown>;
      const c4c = JSON.parse(await readFixture('c4c-events-asyncapi1.json')) as Record<string, unknown>;
      const marketing = JSON.parse(await readFixture('marketing-events-asyncapi1.json')) as Record<string, unknown>;
      const s4 = JSON.parse(await readFixture('s4-events-asyncapi2.json')) as Record<string, unknown>;
      const openapi = JSON.parse(await readFixture('marketplace-saas-openapi3.json')) as Record<string, unknown>;

      await harness.internal('POST', '/v1/applications', { name: 'catalog' });
      const client = await harness.pki.issueClient('catalog');
      await waitFor(async () => (await harness.external('GET', '/catalog/v1/metadata/services', client)).status === 200, 5000);

      const commerceId = await register(serviceBody({ name: 'Commerce Events', events: { spec: commerce } }), client, 'catalog');
      await register(serviceBody({ name: 'C4C Events', events: { spec: c4c } }), client, 'catalog');
      await register(serviceBody({ name: 'Marketing Events', events: { spec: marketing } }), client, 'catalog');
      await register(serviceBody({ name: 'S4 Events', events: { spec: s4 } }), client, 'catalog');
      const apiId = await register(serviceBody({ name: 'Marketplace', api: { targetUrl: 'https://x.example', spec: openapi } }), client, 'catalog');

      const read = await harness.external('GET', `/catalog/v1/metadata/services/${commerceId}`, client);
      assert.deepEqual((read.json() as { events: { spec: unknown } }).events.spec, commerce);
      const api = await harness.external('GET', `/catalog/v1/metadata/services/${apiId}`, client);
      assert.deepEqual((api.json() as { api: { spec: unknown } }).api.spec, openapi);

      const catalog = await harness.internal('GET', '/v1/applications/catalog/events');
      assert.equal(catalog.status, 200);
      const events = catalog.json() as { type: string; version: string; schema: unknown }[];
      assert.equal(events.length, 40 + 9 + 6 + 4);
      assert.ok(events.some((event) => event.type === 'order.created' && event.version === 'v1'));
      assert.ok(events.some((event) => event.type === 'Opportunity.Root.Updated' && event.version === 'v1'));
      assert.ok(events.some((event) => event.type === 'sap.s4.beh.businesspartner.v1.BusinessPartner.Changed'));
      assert.ok(events.every((event) => typeof event.schema === 'object'));

      const eventsSpec = await harness.internal('GET', `/v1/applications/catalog/services/${commerceId}/spec?type=events`);
      assert.equal(eventsSpec.status, 200);
      assert.deepEqual(JSON.parse(eventsSpec.body), commerce);
      await expectError(harness.internal('GET', `/v1/applications/catalog/services/${commerceId}/spec`), 404, /has no api spec/);
      await expectError(harness.internal('GET', `/v1/applications/catalog/services/${commerceId}/spec?type=x`), 400, /type must be api or events/);
    });

    it('drops catalog entries and spec objects on update and delete', async () => {
      const c4c = JSON.parse(await readFixture('c4c-events-asyncapi1.json')) as Record<string, unknown>;
      await harness.internal('POST', '/v1/applications', { name: 'churn' });
      const client = await harness.pki.issueClient('churn');
      await waitFor(async () => (await harness.external('GET', '/churn/v1/metadata/services', client)).status === 200, 5000);

      const id = await register(serviceBody({ name: 'Churn', events: { spec: c4c } }), client, 'churn');
      const first = await storedRecord('churn', id);
      const specs = harness.service.runtime.resources.specs;
      assert.equal((await specs.info(first!.events!.specObject!))?.deleted, false);

      const withoutSpec = await harness.external('PUT', `/churn/v1/metadata/services/${id}`, client, serviceBody({ name: 'Churn', events: {} }));
      assert.equal(withoutSpec.status, 200);
      assert.equal((await specs.info(first!.events!.specObject!))?.deleted ?? true, true);
      assert.equal((await specs.info(first!.events!.catalogObject!))?.deleted ?? true, true);
      assert.deepEqual((await harness.internal('GET', '/v1/applications/churn/events')).json(), []);
    });
  });

  describe('watch', () => {
    it('shows a new service to other services within a second', async () => {
      const js = jetstream(nc);
      const kv = await new Kvm(js).open(KV_BUCKETS.services);
      const cache = new KvCache<ServiceRecord>({ kv, bucket: KV_BUCKETS.services, decode: (entry) => entry.json<ServiceRecord>(), log: pino({ level: 'silent' }) });
      await cache.start();
      try {
        const started = Date.now();
        const id = await register(serviceBody({ name: 'Watched API', api: { targetUrl: 'https://watched.example' } }));
        const seenAfterMs = await waitFor(() => cache.has(serviceKey('shop', id)), 5000);
        assert.ok(Date.now() - started < 5000);
        assert.ok(seenAfterMs < 1000, `seen after ${seenAfterMs} ms`);
        const cached = cache.get(serviceKey('shop', id));
        assert.equal(cached?.normalizedName, 'watched-api');
        assert.equal(cached?.api?.targetUrl, 'https://watched.example');

        const internalList = await harness.internal('GET', '/v1/applications/shop/services');
        assert.ok((internalList.json() as { id: string }[]).some((item) => item.id === id));

        const marketing = JSON.parse(await readFixture('marketing-events-asyncapi1.json')) as Record<string, unknown>;
        const eventsId = await register(serviceBody({ name: 'Watched Events', events: { spec: marketing } }));
        const catalogAfterMs = await waitFor(async () => {
          const catalog = (await harness.internal('GET', '/v1/applications/shop/events')).json() as { type: string }[];
          return catalog.some((event) => event.type === 'bo.marketingcoupon.changed');
        }, 5000);
        assert.ok(catalogAfterMs < 1000, `catalog after ${catalogAfterMs} ms`);
        await waitFor(() => cache.get(serviceKey('shop', eventsId))?.events?.catalogObject !== undefined, 1000);

        await harness.external('DELETE', `/shop/v1/metadata/services/${id}`, shop);
        await waitFor(() => !cache.has(serviceKey('shop', id)), 1000);
      } finally {
        cache.stop();
      }
    });
  });

  describe('mTLS', () => {
    it('requires a client certificate', async () => {
      await expectError(harness.external('GET', '/shop/v1/metadata/services', undefined), 401, /client certificate is required/);
    });

    it('rejects another application certificate', async () => {
      await expectError(harness.external('GET', '/shop/v1/metadata/services', crm), 403, /CN 'crm' does not match application 'shop'/);
      await expectError(harness.external('POST', '/shop/v1/metadata/services', crm, serviceBody()), 403, /does not match/);
    });

    it('rejects an unknown application', async () => {
      const ghost = await harness.pki.issueClient('ghost');
      await expectError(harness.external('GET', '/ghost/v1/metadata/services', ghost), 403, /application 'ghost' does not exist/);
    });

    it('rejects a certificate from another CA', async () => {
      const { createTestPki } = await import('../helpers/pki.ts');
      const foreign = await (await createTestPki()).issueClient('shop');
      await expectError(harness.external('GET', '/shop/v1/metadata/services', foreign), 401, /not issued by Ferry's CA/);
    });

    it('rejects a revoked certificate', async () => {
      const revoked = await harness.pki.issueClient('shop');
      assert.equal((await harness.external('GET', '/shop/v1/metadata/services', revoked)).status, 200);

      const record = { fingerprint: revoked.fingerprint, revokedAt: new Date().toISOString(), reason: 'test' };
      await harness.service.runtime.resources.kv.revocations.put(revoked.fingerprint, JSON.stringify(record));
      await waitFor(async () => (await harness.external('GET', '/shop/v1/metadata/services', revoked)).status === 403, 5000);
      await expectError(harness.external('POST', '/shop/v1/metadata/services', revoked, serviceBody()), 403, /revoked/);
      assert.equal((await harness.external('GET', '/shop/v1/metadata/services', shop)).status, 200);
      assert.equal(await harness.service.runtime.resources.kv.revocations.get(applicationRevocationKey('shop')), null);
    });

    it('checks the certificate before reading the body', async () => {
      const body = JSON.stringify(serviceBody({ description: 'x'.repeat(20 * 1024 * 1024) }));
      await expectError(harness.external('POST', '/shop/v1/metadata/services', crm, body), 403, /does not match/);
    });
  });
});
