import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { applicationRevocationKey, type RevocationRecord } from '../../shared/nats/identity-directory.ts';
import { serviceKey, type ServiceRecord } from '../../shared/model/service-record.ts';
import { issueAdminToken } from '../../shared/auth/issue-admin-token.ts';
import { RegistryHarness, expectError, readFixture, serviceBody, waitFor } from './harness.ts';

describe('registry applications API', () => {
  let harness: RegistryHarness;

  before(async () => {
    harness = await RegistryHarness.start();
  });

  after(async () => {
    await harness.stop();
  });

  describe('create and read', () => {
    it('creates an application', async () => {
      const response = await harness.internal('POST', '/v1/applications', { name: 'commerce', description: 'SAP Commerce', labels: { region: 'eu' } });
      assert.equal(response.status, 201);
      const created = response.json() as { name: string; description: string; labels: Record<string, string>; createdAt: string };
      assert.equal(created.name, 'commerce');
      assert.equal(created.description, 'SAP Commerce');
      assert.deepEqual(created.labels, { region: 'eu' });
      assert.ok(!Number.isNaN(Date.parse(created.createdAt)));

      const read = await harness.internal('GET', '/v1/applications/commerce');
      assert.equal(read.status, 200);
      assert.deepEqual(read.json(), created);

      const list = await harness.internal('GET', '/v1/applications');
      assert.ok((list.json() as { name: string }[]).some((application) => application.name === 'commerce'));
    });

    it('rejects a duplicate name with 409', async () => {
      await harness.internal('POST', '/v1/applications', { name: 'twice' });
      await expectError(harness.internal('POST', '/v1/applications', { name: 'twice' }), 409, /application 'twice' already exists/);
    });

    it('lets one of racing creates win', async () => {
      const responses = await Promise.all(Array.from({ length: 5 }, () => harness.internal('POST', '/v1/applications', { name: 'racy' })));
      assert.deepEqual(responses.map((response) => response.status).sort(), [201, 409, 409, 409, 409]);
    });

    it('rejects names that are not DNS-1123 labels', async () => {
      for (const name of ['Commerce', 'shop.eu', '-shop', 'shop-', 'a'.repeat(64), 'shop_1', '', 'shop/x', 'ünicode']) {
        await expectError(harness.internal('POST', '/v1/applications', { name }), 400, /name must be a DNS-1123 label/);
      }
      assert.equal((await harness.internal('POST', '/v1/applications', { name: 'a'.repeat(63) })).status, 201);
    });

    it('rejects malformed bodies', async () => {
      await expectError(harness.internal('POST', '/v1/applications', {}), 400, /name is required/);
      await expectError(harness.internal('POST', '/v1/applications', { name: 5 }), 400, /name must be of type string, got number 5/);
      await expectError(harness.internal('POST', '/v1/applications', { name: 'x', labels: ['a'] }), 400, /labels must be a JSON object, got an array/);
      await expectError(harness.internal('POST', '/v1/applications', { name: 'x', labels: { a: { b: 1 } } }), 400, /labels\.a must be of type string/);
      await expectError(harness.internal('POST', '/v1/applications', '{"name":'), 400, /not valid JSON/);
      await expectError(harness.internal('POST', '/v1/applications'), 400, /request body is empty/);
    });

    it('rejects an oversized body with 413', async () => {
      await expectError(harness.internal('POST', '/v1/applications', { name: 'big', description: 'x'.repeat(100 * 1024) }), 413, /exceeds the limit of 65536 bytes/);
      assert.equal((await harness.internal('GET', '/v1/applications/big')).status, 404);
    });

    it('answers 404 for unknown and hostile names', async () => {
      for (const name of ['unknown', '*', '>', 'a.b', 'UPPER', '%2A']) {
        await expectError(harness.internal('GET', `/v1/applications/${name}`), 404, /not found/);
      }
      await expectError(harness.internal('DELETE', '/v1/applications/unknown'), 404, /application 'unknown' not found/);
      await expectError(harness.internal('GET', '/v1/applications/unknown/services'), 404, /not found/);
      await expectError(harness.internal('GET', '/v1/applications/unknown/events'), 404, /not found/);
    });
  });

  describe('admin auth', () => {
    it('requires a bearer token', async () => {
      await expectError(harness.internal('GET', '/v1/applications', undefined, ''), 401, /missing Authorization header/);
      await expectError(harness.internal('GET', '/v1/applications', undefined, 'not-a-jwt'), 401, /bearer token is invalid/);
    });

    it('rejects tokens signed with another secret', async () => {
      const forged = await issueAdminToken(new TextEncoder().encode('another-secret-that-is-32-bytes-long!!'));
      await expectError(harness.internal('GET', '/v1/applications', undefined, forged), 401, /signature is invalid/);
    });

    it('lets viewers read but not write', async () => {
      assert.equal((await harness.internal('GET', '/v1/applications', undefined, harness.viewerToken)).status, 200);
      await expectError(harness.internal('POST', '/v1/applications', { name: 'viewer-made' }, harness.viewerToken), 403, /role 'admin' is required/);
      await expectError(harness.internal('DELETE', '/v1/applications/commerce', undefined, harness.viewerToken), 403, /role 'admin' is required/);
      assert.equal((await harness.internal('GET', '/v1/applications/viewer-made')).status, 404);
    });

    it('keeps health routes open', async () => {
      assert.equal((await harness.internal('GET', '/healthz', undefined, '')).status, 200);
      const ready = await harness.internal('GET', '/readyz', undefined, '');
      assert.equal(ready.status, 200, ready.body);
    });
  });

  describe('read access for workloads', () => {
    it('lists and reads services with secrets masked', async () => {
      const client = await harness.createApplication('reader');
      const credentials = { basic: { username: 'api-user', password: 'api-password' } };
      const openapi = JSON.parse(await readFixture('marketplace-saas-openapi3.json')) as Record<string, unknown>;
      const created = await harness.external('POST', '/reader/v1/metadata/services', client, serviceBody({ name: 'Reader API', api: { targetUrl: 'https://x.example', credentials, spec: openapi } }));
      const { id } = created.json() as { id: string };

      const list = await harness.internal('GET', '/v1/applications/reader/services', undefined, harness.viewerToken);
      assert.equal(list.status, 200);
      assert.deepEqual(list.json(), [
        { id, provider: 'SAP', name: 'Reader API', description: 'OCC API', labels: { 'connected-app': 'reader' } },
      ]);

      const one = await harness.internal('GET', `/v1/applications/reader/services/${id}`, undefined, harness.viewerToken);
      assert.equal(one.status, 200);
      assert.deepEqual((one.json() as { api: { credentials: unknown } }).api.credentials, { basic: { username: '********', password: '********' } });
      assert.equal(one.body.includes('api-password'), false);
      assert.equal(one.body.includes('paths'), false);

      const spec = await harness.internal('GET', `/v1/applications/reader/services/${id}/spec`, undefined, harness.viewerToken);
      assert.deepEqual(JSON.parse(spec.body), openapi);
      await expectError(harness.internal('GET', '/v1/applications/reader/services/nope'), 404, /service 'nope' of application 'reader' not found/);
    });
  });

  describe('delete', () => {
    it('removes services and specs and revokes certificates', async () => {
      const client = await harness.createApplication('doomed');
      const c4c = JSON.parse(await readFixture('c4c-events-asyncapi1.json')) as Record<string, unknown>;
      const created = await harness.external('POST', '/doomed/v1/metadata/services', client, serviceBody({ name: 'Doomed Events', identifier: 'doomed-id', events: { spec: c4c } }));
      assert.equal(created.status, 200);
      const { id } = created.json() as { id: string };
      const kv = harness.service.runtime.resources.kv;
      const record = (await kv.services.get(serviceKey('doomed', id)))!.json<ServiceRecord>();
      assert.equal(((await harness.internal('GET', '/v1/applications/doomed/events')).json() as unknown[]).length, 9);

      const deletedAt = Date.now();
      const response = await harness.internal('DELETE', '/v1/applications/doomed');
      assert.equal(response.status, 204);

      assert.equal((await kv.services.get(serviceKey('doomed', id)))?.operation ?? 'DEL', 'DEL');
      assert.equal((await kv.applications.get('doomed'))?.operation ?? 'DEL', 'DEL');
      const specs = harness.service.runtime.resources.specs;
      assert.equal((await specs.info(record.events!.specObject!))?.deleted ?? true, true);
      assert.equal((await specs.info(record.events!.catalogObject!))?.deleted ?? true, true);

      const revocation = (await kv.revocations.get(applicationRevocationKey('doomed')))!.json<RevocationRecord>();
      assert.equal(revocation.application, 'doomed');
      assert.ok(Date.parse(revocation.revokedAt) >= deletedAt - 1000);

      await expectError(harness.internal('GET', '/v1/applications/doomed'), 404, /not found/);
      await waitFor(async () => (await harness.external('GET', '/doomed/v1/metadata/services', client)).status === 403, 5000);
      await expectError(harness.external('GET', '/doomed/v1/metadata/services', client), 403, /revoked/);
    });

    it('lets a recreated application register again', async () => {
      await harness.createApplication('phoenix');
      assert.equal((await harness.internal('DELETE', '/v1/applications/phoenix')).status, 204);

      // Certificates issued after the deletion are not covered by the cut-off. Certificate times have
      // whole-second resolution, so one issued in the same second as the deletion would still be.
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const client = await harness.createApplication('phoenix');
      const again = await harness.external('POST', '/phoenix/v1/metadata/services', client, serviceBody({ name: 'Doomed Events', identifier: 'doomed-id' }));
      assert.equal(again.status, 200, again.body);
    });
  });
});
