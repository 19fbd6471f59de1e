import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { applicationRevocationKey, type RevocationRecord } from '../../shared/nats/identity-directory.ts';
import { KV_BUCKETS } from '../../shared/nats/names.ts';
import { request, type TestResponse } from '../helpers/http.ts';
import { TestNatsServer } from '../helpers/nats-server.ts';
import { createTestPki, fingerprintOf, type TestPki } from '../helpers/pki.ts';
import {
  ApplicationsFixture,
  adminToken,
  expectedSubject,
  forgeCsrPem,
  fromBase64,
  newKeys,
  newToken,
  postJson,
  removeDir,
  spawnConnector,
  stopConnector,
  toBase64,
  writePkiFiles,
  type ConnectorProcess,
  type PkiFiles,
} from './harness.ts';

/** Revocation must reach every replica within this time. */
const PROPAGATION_LIMIT_MS = 1000;

type Client = { keyPem: string; certificatePem: string; fingerprint: string };

describe('connector revocation across processes', () => {
  let nats: TestNatsServer;
  let pki: TestPki;
  let files: PkiFiles;
  let first: ConnectorProcess;
  let second: ConnectorProcess;
  let apps: ApplicationsFixture;

  before(async () => {
    nats = await TestNatsServer.start();
    pki = await createTestPki();
    files = await writePkiFiles(pki);
    [first, second] = await Promise.all([spawnConnector(nats.url, files), spawnConnector(nats.url, files)]);
    // The connectors create the buckets, so the applications go in afterwards.
    apps = await ApplicationsFixture.connect(nats.url);
    await apps.create('commerce');
  });

  after(async () => {
    await Promise.all([stopConnector(first), stopConnector(second)]);
    await apps?.close();
    await nats?.stop();
    if (files) await removeDir(files.dir);
  });

  /** Pair a client for `application` through `connector`. */
  async function pair(connector: ConnectorProcess, application = 'commerce'): Promise<Client> {
    const { token } = await newToken(connector.internalUrl, application);
    const keys = await newKeys();
    const response = await postJson(
      `${connector.externalUrl}/v1/applications/certificates?token=${token}`,
      { csr: toBase64(forgeCsrPem(keys, expectedSubject(application))) },
      { ca: pki.ca.certificatePem },
    );
    assert.equal(response.status, 201, response.body);
    const certificatePem = fromBase64((response.json() as { clientCrt: string }).clientCrt);
    return { keyPem: keys.privateKeyPem, certificatePem, fingerprint: fingerprintOf(certificatePem) };
  }

  function managementInfo(connector: ConnectorProcess, client: Client): Promise<TestResponse> {
    return request(`${connector.externalUrl}/v1/applications/management/info`, {
      ca: pki.ca.certificatePem,
      key: client.keyPem,
      cert: client.certificatePem,
    });
  }

  function renew(connector: ConnectorProcess, client: Client, csrPem: string): Promise<TestResponse> {
    return postJson(
      `${connector.externalUrl}/v1/applications/certificates/renewals`,
      { csr: toBase64(csrPem) },
      { ca: pki.ca.certificatePem, key: client.keyPem, cert: client.certificatePem },
    );
  }

  /** Revoke the client's own certificate over mTLS. */
  function revokeOwn(connector: ConnectorProcess, client: Client): Promise<TestResponse> {
    return request(`${connector.externalUrl}/v1/applications/certificates/revocations`, {
      method: 'POST',
      ca: pki.ca.certificatePem,
      key: client.keyPem,
      cert: client.certificatePem,
    });
  }

  /** Poll `connector` until it rejects `client` with 403. Returns how long that took. */
  async function waitUntilRejected(connector: ConnectorProcess, client: Client, since: number): Promise<number> {
    for (;;) {
      const response = await managementInfo(connector, client);
      const elapsed = performance.now() - since;
      if (response.status === 403) {
        assert.deepEqual(response.json(), { code: 403, error: 'client certificate has been revoked' });
        return elapsed;
      }
      assert.equal(response.status, 200, response.body);
      if (elapsed > 5000) {
        assert.fail(`revocation not seen after ${Math.round(elapsed)} ms`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it('revokes the calling certificate on the other process within a second', async (t) => {
    const client = await pair(first);
    assert.equal((await managementInfo(second, client)).status, 200);

    const started = performance.now();
    const revoked = await revokeOwn(first, client);
    const answered = performance.now();
    assert.equal(revoked.status, 201, revoked.body);
    assert.equal(revoked.body, '');

    const elapsed = await waitUntilRejected(second, client, answered);
    assert.ok(elapsed < PROPAGATION_LIMIT_MS, `second process rejected the certificate ${Math.round(elapsed)} ms after the 201`);
    t.diagnostic(`second process rejected the revoked certificate ${Math.round(elapsed)} ms after the 201, ${Math.round(elapsed + answered - started)} ms after the request started`);
    // The replica that handled the request applied the revocation before it responded.
    assert.equal((await managementInfo(first, client)).status, 403);

    const record = (await (await apps.kv(KV_BUCKETS.revocations)).get(client.fingerprint))?.json<RevocationRecord>();
    assert.equal(record?.fingerprint, client.fingerprint);
    assert.equal(record?.application, 'commerce');
  });

  it('refuses renewal and a second revocation with a revoked certificate', async () => {
    const client = await pair(second);
    const keys = await newKeys();
    const csr = forgeCsrPem(keys, expectedSubject('commerce'));
    assert.equal((await renew(first, client, csr)).status, 201);

    const revoked = await revokeOwn(second, client);
    assert.equal(revoked.status, 201);
    await waitUntilRejected(first, client, performance.now());

    for (const connector of [first, second]) {
      const renewal = await renew(connector, client, csr);
      assert.equal(renewal.status, 403);
      assert.deepEqual(renewal.json(), { code: 403, error: 'client certificate has been revoked' });
      const again = await revokeOwn(connector, client);
      assert.equal(again.status, 403);
    }
  });

  it('revokes by hash through the admin route, on every process', async (t) => {
    const client = await pair(first);
    const headers = { authorization: `Bearer ${await adminToken()}` };
    const started = performance.now();
    const response = await postJson(`${second.internalUrl}/v1/applications/certificates/revocations`, { hash: client.fingerprint.toUpperCase() }, { headers });
    const answered = performance.now();
    assert.equal(response.status, 201, response.body);

    const elapsed = await waitUntilRejected(first, client, answered);
    assert.ok(elapsed < PROPAGATION_LIMIT_MS, `first process rejected the certificate ${Math.round(elapsed)} ms after the 201`);
    t.diagnostic(`first process rejected the revoked certificate ${Math.round(elapsed)} ms after the 201, ${Math.round(elapsed + answered - started)} ms after the request started`);
    assert.equal((await managementInfo(second, client)).status, 403);
  });

  it('answers 400 for a malformed hash and 401 without an admin JWT', async () => {
    const url = `${first.internalUrl}/v1/applications/certificates/revocations`;
    const headers = { authorization: `Bearer ${await adminToken()}` };
    for (const body of [{}, { hash: 'abc' }, { hash: 'z'.repeat(64) }, { hash: 42 }, [], 'not json']) {
      const response = await postJson(url, body, { headers });
      assert.equal(response.status, 400, `${JSON.stringify(body)}: ${response.body}`);
    }
    const malformed = await postJson(url, { hash: 'abc' }, { headers });
    assert.deepEqual(malformed.json(), { code: 400, error: '`hash` must be the SHA-256 of the certificate DER as 64 hex digits' });

    const anonymous = await postJson(url, { hash: 'a'.repeat(64) });
    assert.equal(anonymous.status, 401);
    const viewer = await postJson(url, { hash: 'a'.repeat(64) }, { headers: { authorization: `Bearer ${await adminToken(['viewer'])}` } });
    assert.equal(viewer.status, 403);
  });

  it('rejects the certificates of a deleted application, as the registry revokes them', async () => {
    await apps.create('retired');
    const client = await pair(first, 'retired');
    const record: RevocationRecord = { application: 'retired', revokedAt: new Date().toISOString(), reason: 'application deleted' };
    await (await apps.kv(KV_BUCKETS.revocations)).put(applicationRevocationKey('retired'), JSON.stringify(record));
    await waitUntilRejected(second, client, performance.now());
  });

  it('answers 401 on the mTLS routes without a certificate of Ferry CA', async () => {
    const anonymous = await request(`${first.externalUrl}/v1/applications/management/info`, { ca: pki.ca.certificatePem });
    assert.equal(anonymous.status, 401);

    const other = await createTestPki();
    const stranger = await other.issueClient('commerce');
    const foreign = await request(`${first.externalUrl}/v1/applications/management/info`, {
      ca: pki.ca.certificatePem,
      key: stranger.privateKeyPem,
      cert: stranger.certificatePem,
    });
    assert.equal(foreign.status, 401);
    assert.deepEqual(foreign.json(), { code: 401, error: "client certificate is not issued by Ferry's CA" });
  });
});
