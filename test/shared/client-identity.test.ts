import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import pino from 'pino';
import { createErrorHandler } from '../../shared/errors/http-handler.ts';
import type { ClientIdentity, IdentityDirectory } from '../../shared/http/client-identity.ts';
import { stripUntrustedForwardedClientCert } from '../../shared/http/client-identity.ts';
import { requireApplicationIdentity } from '../../shared/http/require-identity.ts';
import { createExternalServer, listen } from '../../shared/http/server.ts';
import { DAY_MS, createCertificateAuthority } from '../../shared/pki/certificates.ts';
import { request } from '../helpers/http.ts';
import { createTestPki, type TestClientCertificate, type TestPki } from '../helpers/pki.ts';

const silent = pino({ level: 'silent' });

type Server = { url: string; close(): Promise<void> };

/** An HTTPS server with one mTLS route, `GET /:app/whoami`, that echoes the identity. */
async function startServer(pki: TestPki, directory: IdentityDirectory, trustForwardedClientCert: boolean): Promise<Server> {
  const app = express();
  const options = { trustForwardedClientCert, caCertificatePem: pki.ca.certificatePem };
  app.use((req, _res, next) => {
    stripUntrustedForwardedClientCert(req, trustForwardedClientCert);
    next();
  });
  app.get('/:app/whoami', requireApplicationIdentity(options, directory), (req, res) => {
    const identity = req.identity as ClientIdentity;
    res.json({ commonName: identity.commonName, fingerprint: identity.fingerprint, source: identity.source });
  });
  app.get('/headers', (req, res) => {
    res.json(req.headers);
  });
  app.use(createErrorHandler(silent));

  const server = createExternalServer(app, { cert: pki.server.certificatePem, key: pki.server.privateKeyPem, ca: pki.ca.certificatePem });
  const address: AddressInfo = await listen(server, 0, '127.0.0.1');
  return {
    url: `https://127.0.0.1:${address.port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('mTLS client identity', () => {
  let pki: TestPki;
  let valid: TestClientCertificate;
  let revoked: TestClientCertificate;
  let expired: TestClientCertificate;
  let foreign: TestClientCertificate;
  let server: Server;
  let trustingServer: Server;
  const revokedFingerprints = new Set<string>();
  const directory: IdentityDirectory = {
    isRevoked: (identity) => revokedFingerprints.has(identity.fingerprint),
    applicationExists: (name) => name === 'commerce' || name === 'crm',
  };

  before(async () => {
    pki = await createTestPki();
    valid = await pki.issueClient('commerce');
    revoked = await pki.issueClient('commerce');
    revokedFingerprints.add(revoked.fingerprint);
    expired = await pki.issueClient('commerce', { now: new Date(Date.now() - 10 * DAY_MS), validityMs: DAY_MS });
    foreign = await pki.issueClient('commerce', { ca: await createCertificateAuthority('Foreign CA') });
    server = await startServer(pki, directory, false);
    trustingServer = await startServer(pki, directory, true);
  });

  after(async () => {
    await server.close();
    await trustingServer.close();
  });

  const call = (base: Server, path: string, client?: TestClientCertificate, headers: Record<string, string> = {}) =>
    request(`${base.url}${path}`, { ca: pki.ca.certificatePem, cert: client?.certificatePem, key: client?.privateKeyPem, headers });

  it('accepts a valid certificate', async () => {
    const response = await call(server, '/commerce/whoami', valid);
    assert.equal(response.status, 200);
    assert.deepEqual(response.json(), { commonName: 'commerce', fingerprint: valid.fingerprint, source: 'tls' });
  });

  it('rejects a missing certificate with 401', async () => {
    const response = await call(server, '/commerce/whoami');
    assert.equal(response.status, 401);
    assert.deepEqual(response.json(), { code: 401, error: 'a client certificate is required' });
  });

  it('rejects a certificate from an unknown CA with 401', async () => {
    const response = await call(server, '/commerce/whoami', foreign);
    assert.equal(response.status, 401);
    assert.match((response.json() as { error: string }).error, /not issued by Ferry's CA/);
  });

  it('rejects an expired certificate with 401', async () => {
    const response = await call(server, '/commerce/whoami', expired);
    assert.equal(response.status, 401);
    assert.deepEqual(response.json(), { code: 401, error: 'client certificate has expired' });
  });

  it('rejects a revoked certificate with 403', async () => {
    const response = await call(server, '/commerce/whoami', revoked);
    assert.equal(response.status, 403);
    assert.deepEqual(response.json(), { code: 403, error: 'client certificate has been revoked' });
  });

  it('rejects another application path with 403', async () => {
    const response = await call(server, '/crm/whoami', valid);
    assert.equal(response.status, 403);
    assert.deepEqual(response.json(), { code: 403, error: "client certificate CN 'commerce' does not match application 'crm'" });
  });

  it('rejects an unknown application with 403', async () => {
    const other = await pki.issueClient('erp');
    const response = await call(server, '/erp/whoami', other);
    assert.equal(response.status, 403);
    assert.deepEqual(response.json(), { code: 403, error: "application 'erp' does not exist" });
  });

  it('ignores a forged forwarded certificate while trust is off', async () => {
    const forged = `Hash=${'a'.repeat(64)};Subject="CN=commerce"`;
    const withoutCert = await call(server, '/commerce/whoami', undefined, { 'x-forwarded-client-cert': forged });
    assert.equal(withoutCert.status, 401);

    const withOtherCert = await call(server, '/commerce/whoami', valid, { 'x-forwarded-client-cert': `Hash=${'b'.repeat(64)};Subject="CN=crm"` });
    assert.equal(withOtherCert.status, 200);
    assert.equal((withOtherCert.json() as { source: string }).source, 'tls');
  });

  it('strips the forwarded header while trust is off', async () => {
    const response = await call(server, '/headers', valid, { 'x-forwarded-client-cert': 'Hash=abc' });
    assert.equal(response.status, 200);
    assert.equal((response.json() as Record<string, unknown>)['x-forwarded-client-cert'], undefined);
  });

  it('accepts a forwarded Hash and Subject while trust is on', async () => {
    const header = `By=spiffe://ferry/events;Hash=${valid.fingerprint};Subject="CN=commerce,O=Ferry Test,C=DE";URI=`;
    const response = await call(trustingServer, '/commerce/whoami', undefined, { 'x-forwarded-client-cert': header });
    assert.equal(response.status, 200);
    assert.deepEqual(response.json(), { commonName: 'commerce', fingerprint: valid.fingerprint, source: 'forwarded' });
  });

  it('accepts a forwarded Cert from the CA while trust is on', async () => {
    const header = `Hash=${valid.fingerprint};Cert="${encodeURIComponent(valid.certificatePem)}"`;
    const response = await call(trustingServer, '/commerce/whoami', undefined, { 'x-forwarded-client-cert': header });
    assert.equal(response.status, 200);
    assert.equal((response.json() as { fingerprint: string }).fingerprint, valid.fingerprint);
  });

  it('rejects a forwarded Cert from another CA', async () => {
    const header = `Cert="${encodeURIComponent(foreign.certificatePem)}"`;
    const response = await call(trustingServer, '/commerce/whoami', undefined, { 'x-forwarded-client-cert': header });
    assert.equal(response.status, 401);
  });

  it('applies revocation to a forwarded identity', async () => {
    const header = `Hash=${revoked.fingerprint};Subject="CN=commerce"`;
    const response = await call(trustingServer, '/commerce/whoami', undefined, { 'x-forwarded-client-cert': header });
    assert.equal(response.status, 403);
  });

  it('rejects a malformed forwarded header with 401', async () => {
    for (const header of ['Hash="unterminated', 'garbage', `Hash=${'z'.repeat(64)};Subject="CN=commerce"`, 'Subject="CN=commerce"']) {
      const response = await call(trustingServer, '/commerce/whoami', undefined, { 'x-forwarded-client-cert': header });
      assert.equal(response.status, 401, header);
    }
  });
});
