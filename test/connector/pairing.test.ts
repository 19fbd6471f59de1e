import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import forge from 'node-forge';
import { sha256Hex } from '../../shared/http/client-identity.ts';
import { KV_BUCKETS } from '../../shared/nats/names.ts';
import { DAY_MS } from '../../shared/pki/certificates.ts';
import { request } from '../helpers/http.ts';
import { TestNatsServer } from '../helpers/nats-server.ts';
import { createTestPki, type TestPki } from '../helpers/pki.ts';
import {
  ApplicationsFixture,
  adminToken,
  createPairingToken,
  execFileAsync,
  expectedSubject,
  forgeCsrPem,
  fromBase64,
  newKeys,
  newToken,
  opensslCsr,
  postJson,
  removeDir,
  startTestConnector,
  toBase64,
  writePkiFiles,
  type PkiFiles,
  type SubjectSpec,
  type TestConnector,
} from './harness.ts';

type SigningInfo = {
  csrUrl: string;
  api: { eventsInfoUrl: string; eventsUrl: string; metadataUrl: string; infoUrl: string; certificatesUrl: string };
  certificate: { subject: string; extensions: string; 'key-algorithm': string };
};
type Bundle = { crt: string; clientCrt: string; caCrt: string };
type ManagementInfo = {
  clientIdentity: { application: string };
  urls: { eventsInfoUrl: string; eventsUrl: string; metadataUrl: string; renewCertUrl: string; revokeCertUrl: string };
  certificate: { subject: string; extensions: string; 'key-algorithm': string };
};

/** Split `O=a,OU=b,…,CN=app` the way Kyma's clients do. */
function parseAdvertisedSubject(subject: string): SubjectSpec {
  return Object.fromEntries(subject.split(',').map((part) => part.split('=') as [string, string]));
}

const PEM_CERTIFICATES = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----\n?/g;

describe('connector pairing', () => {
  let nats: TestNatsServer;
  let pki: TestPki;
  let files: PkiFiles;
  let connector: TestConnector;
  let apps: ApplicationsFixture;

  const ca = (): string => pki.ca.certificatePem;

  before(async () => {
    nats = await TestNatsServer.start();
    pki = await createTestPki();
    files = await writePkiFiles(pki);
    connector = await startTestConnector(nats.url, files);
    apps = await ApplicationsFixture.connect(nats.url);
    await apps.create('commerce');
    await apps.create('crm');
  });

  after(async () => {
    await apps?.close();
    await connector?.stop();
    await nats?.stop();
    if (files) await removeDir(files.dir);
  });

  /** GET the token URL, as a client does first. */
  async function fetchSigningInfo(url: string): Promise<SigningInfo> {
    const response = await request(url, { ca: ca() });
    assert.equal(response.status, 200, response.body);
    return response.json() as SigningInfo;
  }

  async function postCsr(csrUrl: string, csrPem: string): Promise<Bundle> {
    const response = await postJson(csrUrl, { csr: toBase64(csrPem) }, { ca: ca() });
    assert.equal(response.status, 201, response.body);
    return response.json() as Bundle;
  }

  /** Check the bundle's shape and chain, and that `openssl verify` accepts the certificate for client auth. */
  async function assertValidBundle(bundle: Bundle, application: string): Promise<string> {
    const clientPem = fromBase64(bundle.clientCrt);
    const caPem = fromBase64(bundle.caCrt);
    const chain = fromBase64(bundle.crt).match(PEM_CERTIFICATES) ?? [];
    assert.equal(chain.length, 2);
    assert.equal(chain[0].trim(), clientPem.trim());
    assert.equal(chain[1]!.trim(), caPem.trim());
    assert.equal(caPem.trim(), pki.ca.certificatePem.trim());
    assert.match(new X509Certificate(clientPem).subject, new RegExp(`CN=${application}$`));

    const certFile = path.join(files.dir, `client-${application}-${Date.now()}.pem`);
    await writeFile(certFile, clientPem);
    const { stdout } = await execFileAsync('openssl', ['verify', '-CAfile', files.caCert, '-purpose', 'sslclient', certFile]);
    assert.match(stdout, /: OK/);
    return clientPem;
  }

  async function managementInfo(key: string, cert: string): Promise<ManagementInfo> {
    const response = await request(`${connector.externalUrl}/v1/applications/management/info`, { ca: ca(), key, cert });
    assert.equal(response.status, 200, response.body);
    return response.json() as ManagementInfo;
  }

  describe('flow', () => {
    it('pairs a client whose CSR is made by node-forge with SHA-1', async () => {
      const { url, token } = await newToken(connector.internalUrl, 'commerce');
      assert.equal(url, `${connector.externalUrl}/v1/applications/signingRequests/info?token=${token}`);
      assert.match(token, /^[A-Za-z0-9_-]{86}$/);

      const info = await fetchSigningInfo(url);
      const csrToken = new URL(info.csrUrl).searchParams.get('token');
      assert.equal(info.csrUrl, `${connector.externalUrl}/v1/applications/certificates?token=${csrToken}`);
      assert.notEqual(csrToken, token);
      assert.deepEqual(info.api, {
        eventsInfoUrl: 'https://events.ferry.test/commerce/v1/events/subscribed',
        eventsUrl: 'https://events.ferry.test/commerce/events',
        metadataUrl: 'https://registry.ferry.test:8444/commerce/v1/metadata/services',
        infoUrl: `${connector.externalUrl}/v1/applications/management/info`,
        certificatesUrl: `${connector.externalUrl}/v1/applications/certificates`,
      });
      assert.deepEqual(info.certificate, {
        subject: 'O=Ferry Test Org,OU=Pairing,L=Walldorf,ST=Baden,C=NL,CN=commerce',
        extensions: '',
        'key-algorithm': 'rsa2048',
      });

      const keys = await newKeys();
      const csrPem = forgeCsrPem(keys, parseAdvertisedSubject(info.certificate.subject));
      assert.equal(forge.pki.certificationRequestFromPem(csrPem).signatureOid, forge.pki.oids.sha1WithRSAEncryption);
      const bundle = await postCsr(info.csrUrl, csrPem);
      const clientPem = await assertValidBundle(bundle, 'commerce');

      const management = await managementInfo(keys.privateKeyPem, clientPem);
      assert.deepEqual(management, {
        clientIdentity: { application: 'commerce' },
        urls: {
          eventsInfoUrl: 'https://events.ferry.test/commerce/v1/events/subscribed',
          eventsUrl: 'https://events.ferry.test/commerce/events',
          metadataUrl: 'https://registry.ferry.test:8444/commerce/v1/metadata/services',
          renewCertUrl: `${connector.externalUrl}/v1/applications/certificates/renewals`,
          revokeCertUrl: `${connector.externalUrl}/v1/applications/certificates/revocations`,
        },
        certificate: info.certificate,
      });

      const renewalKeys = await newKeys();
      const renewal = await postJson(
        management.urls.renewCertUrl,
        { csr: toBase64(forgeCsrPem(renewalKeys, parseAdvertisedSubject(management.certificate.subject))) },
        { ca: ca(), key: keys.privateKeyPem, cert: clientPem },
      );
      assert.equal(renewal.status, 201, renewal.body);
      const renewedPem = await assertValidBundle(renewal.json() as Bundle, 'commerce');
      assert.notEqual(renewedPem, clientPem);
      assert.equal((await managementInfo(renewalKeys.privateKeyPem, renewedPem)).clientIdentity.application, 'commerce');
    });

    it('pairs a client whose key and CSR are made by openssl req', async () => {
      const { url } = await newToken(connector.internalUrl, 'crm');
      const info = await fetchSigningInfo(url);

      const { keyPem, csrPem } = await opensslCsr(files.dir, parseAdvertisedSubject(info.certificate.subject));
      const clientPem = await assertValidBundle(await postCsr(info.csrUrl, csrPem), 'crm');
      const management = await managementInfo(keyPem, clientPem);
      assert.equal(management.clientIdentity.application, 'crm');
      assert.equal(management.urls.metadataUrl, 'https://registry.ferry.test:8444/crm/v1/metadata/services');

      const renewalCsr = await opensslCsr(files.dir, parseAdvertisedSubject(management.certificate.subject));
      const renewal = await postJson(management.urls.renewCertUrl, { csr: toBase64(renewalCsr.csrPem) }, { ca: ca(), key: keyPem, cert: clientPem });
      assert.equal(renewal.status, 201, renewal.body);
      const renewedPem = await assertValidBundle(renewal.json() as Bundle, 'crm');
      assert.equal((await managementInfo(renewalCsr.keyPem, renewedPem)).clientIdentity.application, 'crm');
    });

    it('signs directly with the token from the admin route', async () => {
      const { token } = await newToken(connector.internalUrl, 'commerce');
      const { csrPem } = await opensslCsr(files.dir, expectedSubject('commerce'));
      await assertValidBundle(await postCsr(`${connector.externalUrl}/v1/applications/certificates?token=${token}`, csrPem), 'commerce');
    });

    it('accepts the NEW CERTIFICATE REQUEST label and attributes beyond the checked ones', async () => {
      const keys = await newKeys();
      const csrPem = forgeCsrPem(
        keys,
        { ...expectedSubject('commerce'), E: 'ops@commerce.example' },
        {
          label: 'NEW CERTIFICATE REQUEST',
          md: forge.md.sha256.create(),
          attributes: [
            { name: 'challengePassword', value: 'secret' },
            { name: 'extensionRequest', extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'shop.commerce.example' }] }] },
          ],
        },
      );
      assert.match(csrPem, /^-----BEGIN NEW CERTIFICATE REQUEST-----/);

      const { token } = await newToken(connector.internalUrl, 'commerce');
      const bundle = await postCsr(`${connector.externalUrl}/v1/applications/certificates?token=${token}`, csrPem);
      const certificate = new X509Certificate(fromBase64(bundle.clientCrt));
      // Only the advertised subject is issued: the extra e-mail attribute and requested SAN are dropped.
      assert.equal(certificate.subject, 'O=Ferry Test Org\nOU=Pairing\nL=Walldorf\nST=Baden\nC=NL\nCN=commerce');
      assert.equal(certificate.subjectAltName, undefined);
    });
  });

  describe('issued certificate', () => {
    it('has the required signature, serial, validity and extensions', async () => {
      const issue = async (): Promise<{ pem: string; issuedAt: number }> => {
        const { token } = await newToken(connector.internalUrl, 'commerce');
        const csrPem = forgeCsrPem(await newKeys(), expectedSubject('commerce'));
        const issuedAt = Date.now();
        const bundle = await postCsr(`${connector.externalUrl}/v1/applications/certificates?token=${token}`, csrPem);
        return { pem: fromBase64(bundle.clientCrt), issuedAt };
      };
      const first = await issue();
      const second = await issue();

      const certFile = path.join(files.dir, 'inspect.pem');
      await writeFile(certFile, first.pem);
      const { stdout: text } = await execFileAsync('openssl', ['x509', '-in', certFile, '-noout', '-text', '-nameopt', 'RFC2253']);
      assert.match(text, /Signature Algorithm: sha256WithRSAEncryption/);
      assert.match(text, /Subject: CN=commerce,C=NL,ST=Baden,L=Walldorf,OU=Pairing,O=Ferry Test Org/);
      assert.match(text, /X509v3 Key Usage: critical\s+Digital Signature, Key Encipherment\n/);
      assert.match(text, /X509v3 Extended Key Usage: \s+TLS Web Client Authentication\n/);
      assert.match(text, /X509v3 Subject Key Identifier: \s+[0-9A-F:]{59}\n/);

      const caText = (await execFileAsync('openssl', ['x509', '-in', files.caCert, '-noout', '-ext', 'subjectKeyIdentifier'])).stdout;
      const caKeyId = /([0-9A-F]{2}(?::[0-9A-F]{2}){19})/.exec(caText)?.[1];
      assert.ok(caKeyId);
      assert.match(text, new RegExp(`X509v3 Authority Key Identifier: \\s+(?:keyid:)?${caKeyId}`));

      const certificates = [first, second].map(({ pem }) => new X509Certificate(pem));
      for (const certificate of certificates) {
        assert.match(certificate.serialNumber, /^[0-7][0-9A-F]{31}$/);
      }
      assert.notEqual(certificates[0]!.serialNumber, certificates[1]!.serialNumber);

      const notBefore = Date.parse(certificates[0]!.validFrom);
      const notAfter = Date.parse(certificates[0]!.validTo);
      // X.509 times have whole seconds.
      assert.ok(Math.abs(notBefore - (first.issuedAt - 60_000)) < 5000, `notBefore ${certificates[0]!.validFrom}`);
      assert.ok(Math.abs(notAfter - notBefore - (92 * DAY_MS + 60_000)) <= 1000, `validity ${certificates[0]!.validFrom} to ${certificates[0]!.validTo}`);
    });
  });

  describe('tokens', () => {
    it('stores only the SHA-256 of a token, with its application and expiry', async () => {
      const { token } = await newToken(connector.internalUrl, 'commerce');
      const kv = await apps.kv(KV_BUCKETS.tokens);
      const entry = await kv.get(sha256Hex(Buffer.from(token)));
      assert.ok(entry);
      const record = entry.json<{ application: string; createdAt: string; expiresAt: string }>();
      assert.equal(record.application, 'commerce');
      assert.equal(Date.parse(record.expiresAt) - Date.parse(record.createdAt), 5 * 60_000);
      assert.ok(!entry.string().includes(token));

      const keys: string[] = [];
      for await (const key of await kv.keys()) keys.push(key);
      assert.ok(keys.every((key) => /^[0-9a-f]{64}$/.test(key)));
      assert.ok(!keys.includes(token));
    });

    it('answers 400 without the Application header, and for a malformed name', async () => {
      const missing = await request(`${connector.internalUrl}/v1/applications/tokens`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await adminToken()}` },
      });
      assert.equal(missing.status, 400);
      assert.deepEqual(missing.json(), { code: 400, error: 'the Application header is required' });

      const malformed = await createPairingToken(connector.internalUrl, 'Not_An_App');
      assert.equal(malformed.status, 400);
      assert.match((malformed.json() as { error: string }).error, /DNS-1123/);
    });

    it('answers 404 for an unknown application', async () => {
      const response = await createPairingToken(connector.internalUrl, 'unknown-app');
      assert.equal(response.status, 404);
      assert.deepEqual(response.json(), { code: 404, error: "application 'unknown-app' does not exist" });
    });

    it('requires an admin JWT', async () => {
      const url = `${connector.internalUrl}/v1/applications/tokens`;
      const anonymous = await request(url, { method: 'POST', headers: { application: 'commerce' } });
      assert.equal(anonymous.status, 401);
      const viewer = await request(url, { method: 'POST', headers: { application: 'commerce', authorization: `Bearer ${await adminToken(['viewer'])}` } });
      assert.equal(viewer.status, 403);
      const forged = await request(url, { method: 'POST', headers: { application: 'commerce', authorization: 'Bearer abc.def.ghi' } });
      assert.equal(forged.status, 401);
    });

    it('sees an application the moment the registry stores it', async () => {
      await apps.create('fresh-app');
      const { token } = await newToken(connector.internalUrl, 'fresh-app');
      assert.ok(token);
    });

    it('works on another replica', async () => {
      const { url, token } = await newToken(connector.internalUrl, 'commerce');
      const replica = await startTestConnector(nats.url, files);
      try {
        const response = await request(url.replace(connector.externalUrl, replica.externalUrl), { ca: ca() });
        assert.equal(response.status, 200, response.body);
      } finally {
        await replica.stop();
      }
      const reused = await request(`${connector.externalUrl}/v1/applications/signingRequests/info?token=${token}`, { ca: ca() });
      assert.equal(reused.status, 403);
    });

    it('survives a restart of the connector that made it', async () => {
      const maker = await startTestConnector(nats.url, files);
      let token: string;
      try {
        token = (await newToken(maker.internalUrl, 'commerce')).token;
      } finally {
        await maker.stop();
      }
      const restarted = await startTestConnector(nats.url, files);
      try {
        const response = await request(`${restarted.externalUrl}/v1/applications/signingRequests/info?token=${token}`, { ca: ca() });
        assert.equal(response.status, 200, response.body);
      } finally {
        await restarted.stop();
      }
    });
  });

  describe('signing request info', () => {
    const infoUrl = (token: string): string => `${connector.externalUrl}/v1/applications/signingRequests/info?token=${token}`;

    async function assertForbidden(url: string, message: RegExp): Promise<void> {
      const response = await request(url, { ca: ca() });
      assert.equal(response.status, 403, response.body);
      const body = response.json() as { code: number; error: string };
      assert.equal(body.code, 403);
      assert.match(body.error, message);
    }

    it('answers 403 for a missing, unknown or malformed token', async () => {
      await assertForbidden(`${connector.externalUrl}/v1/applications/signingRequests/info`, /token is required/);
      await assertForbidden(infoUrl('A'.repeat(86)), /token is unknown/);
      await assertForbidden(infoUrl('short'), /token is unknown/);
      await assertForbidden(`${infoUrl('a')}&token=b`, /the `token` query parameter must appear once/);
    });

    it('consumes the token, so a second use answers 403', async () => {
      const { url } = await newToken(connector.internalUrl, 'commerce');
      await fetchSigningInfo(url);
      await assertForbidden(url, /token has already been used/);
    });

    it('answers 403 for an expired token', async () => {
      const { url } = await newToken(connector.internalUrl, 'commerce');
      connector.clock.offsetMs = 5 * 60_000 + 1;
      try {
        await assertForbidden(url, /token has expired/);
      } finally {
        connector.clock.offsetMs = 0;
      }
      // Expiry does not consume the token, so it works again once the clock is back.
      await fetchSigningInfo(url);
    });

    it('answers 403 when the application was deleted after the token was made', async () => {
      await apps.create('short-lived');
      const { url } = await newToken(connector.internalUrl, 'short-lived');
      await apps.remove('short-lived');
      await assertForbidden(url, /no longer exists/);
    });

    it('embeds a fresh token for the same application in csrUrl', async () => {
      const { url } = await newToken(connector.internalUrl, 'crm');
      const info = await fetchSigningInfo(url);
      const csrToken = new URL(info.csrUrl).searchParams.get('token')!;
      const record = (await (await apps.kv(KV_BUCKETS.tokens)).get(sha256Hex(Buffer.from(csrToken))))?.json<{ application: string }>();
      assert.equal(record?.application, 'crm');
    });
  });
});
