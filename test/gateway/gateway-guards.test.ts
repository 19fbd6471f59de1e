import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Writable } from 'node:stream';
import { issueAdminToken } from '../../shared/auth/issue-admin-token.ts';
import { ConfigError } from '../../shared/errors/errors.ts';
import { parseGatewayConfig } from '../../services/gateway/config.ts';
import { startGatewayService } from '../../services/gateway/service.ts';
import { TestNatsServer } from '../helpers/nats-server.ts';
import { createTestPki, type TestPki } from '../helpers/pki.ts';
import { GatewayFixture } from './gateway-fixture.ts';
import { MockUpstream, startMtlsUpstream, type EchoBody } from './mock-upstream.ts';

type ErrorBody = { code: number; error: string };

const ADMIN_SECRET = 'gateway-test-secret-of-at-least-32-bytes';

describe('gateway guards', () => {
  let nats: TestNatsServer;
  let upstream: MockUpstream;

  before(async () => {
    nats = await TestNatsServer.start();
    upstream = await MockUpstream.start();
  });

  after(async () => {
    await upstream?.stop();
    await nats?.stop();
  });

  describe('client certificate', () => {
    let gateway: GatewayFixture;
    let pki: TestPki;
    let mtls: { origin: string; stop(): Promise<void> };

    before(async () => {
      gateway = await GatewayFixture.start(nats.url);
      pki = await createTestPki();
      mtls = await startMtlsUpstream(pki);
    });

    after(async () => {
      await gateway?.stop();
      await mtls?.stop();
    });

    it('presents the certificate to the target', async () => {
      const client = await pki.issueClient('erp-client');
      await gateway.addService({
        app: 'mtls',
        name: 'erp',
        targetUrl: `${mtls.origin}/open`,
        caBundle: pki.ca.certificatePem,
        credentials: { certificateGen: { commonName: 'erp-client', certificate: client.certificatePem, privateKey: client.privateKeyPem } },
      });
      const response = await gateway.call('/mtls/erp/echo/x');
      assert.equal(response.status, 200);
      assert.equal((response.json() as EchoBody).peer, 'erp-client');
      assert.equal((response.json() as EchoBody).url, '/open/echo/x');
    });

    it('rejects a target outside the trust store', async () => {
      const client = await pki.issueClient('erp-client');
      await gateway.addService({
        app: 'mtls',
        name: 'untrusted',
        targetUrl: `${mtls.origin}/open`,
        credentials: { certificateGen: { commonName: 'erp-client', certificate: client.certificatePem, privateKey: client.privateKeyPem } },
      });
      const response = await gateway.call('/mtls/untrusted/echo');
      assert.equal(response.status, 502);
      assert.match((response.json() as ErrorBody).error, /failed: TLS handshake failed \((SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)/);
    });

    it('fails without a client certificate', async () => {
      await gateway.addService({ app: 'mtls', name: 'no-cert', targetUrl: `${mtls.origin}/open`, caBundle: pki.ca.certificatePem });
      const response = await gateway.call('/mtls/no-cert/echo');
      assert.equal(response.status, 502);
      assert.match((response.json() as ErrorBody).error, /^target https:\/\/127\.0\.0\.1:\d+\/open failed: /);
    });
  });

  describe('egress policy', () => {
    let gateway: GatewayFixture;

    before(async () => {
      gateway = await GatewayFixture.start(nats.url, { FERRY_EGRESS_ALLOW_LOOPBACK: 'false' });
    });

    after(async () => {
      await gateway?.stop();
    });

    it('rejects a loopback target unconnected', async () => {
      await gateway.addService({ app: 'denied', name: 'loopback', targetUrl: `${upstream.origin}/open` });
      const connectionsBefore = upstream.connections;

      const response = await gateway.call('/denied/loopback/echo');
      assert.equal(response.status, 502);
      assert.equal((response.json() as ErrorBody).error, `target ${upstream.origin}/open failed: egress policy denies 127.0.0.1: 127.0.0.1 is a loopback address`);
      assert.equal(upstream.connections, connectionsBefore);
    });

    it('checks the resolved address of a host name', async () => {
      await gateway.addService({ app: 'denied', name: 'localhost', targetUrl: `http://localhost:${upstream.port}/open` });
      const connectionsBefore = upstream.connections;

      const response = await gateway.call('/denied/localhost/echo');
      assert.equal(response.status, 502);
      assert.match((response.json() as ErrorBody).error, /egress policy denies localhost: (127\.0\.0\.1|::1) is a loopback address/);
      assert.equal(upstream.connections, connectionsBefore);
    });

    it('rejects a loopback token URL unconnected', async () => {
      await gateway.addService({
        app: 'denied',
        name: 'token',
        targetUrl: `${upstream.origin}/oauth`,
        credentials: { oauth: { url: `${upstream.origin}/oauth/token`, clientId: 'a', clientSecret: 'b' } },
      });
      const connectionsBefore = upstream.connections;

      const response = await gateway.call('/denied/token/x');
      assert.equal(response.status, 502);
      assert.match((response.json() as ErrorBody).error, /^OAuth token request to .* failed: egress policy denies 127\.0\.0\.1/);
      assert.equal(upstream.connections, connectionsBefore);
    });
  });

  describe('startup', () => {
    it('rejects an invalid credentials key', async () => {
      const config = parseGatewayConfig({ NATS_URL: nats.url, FERRY_GATEWAY_INTERNAL_PORT: '0', FERRY_CREDENTIALS_KEYS: 'test:not-32-bytes' });
      await assert.rejects(startGatewayService(config, { installSignalHandlers: false, logDestination: new Writable({ write: (_c, _e, done) => done() }) }), (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.match(error.message, /FERRY_CREDENTIALS_KEYS has an invalid credentials key entry/);
        return true;
      });
    });
  });

  describe('workload auth', () => {
    let gateway: GatewayFixture;

    before(async () => {
      gateway = await GatewayFixture.start(nats.url, { FERRY_REQUIRE_WORKLOAD_AUTH: 'true', FERRY_ADMIN_JWT_SECRET: ADMIN_SECRET });
      await gateway.putService({ app: 'wl', name: 'open', targetUrl: `${upstream.origin}/open` });
    });

    after(async () => {
      await gateway?.stop();
    });

    it('rejects a call without a token', async () => {
      const response = await gateway.call('/wl/open/echo');
      assert.equal(response.status, 401);
      assert.deepEqual(response.json(), { code: 401, error: 'missing Authorization header with a Bearer token' });
    });

    it('rejects a token with a wrong signature', async () => {
      const token = await issueAdminToken(new TextEncoder().encode('another-secret-that-is-32-bytes-long!'));
      const response = await gateway.call('/wl/open/echo', { headers: { authorization: `Bearer ${token}` } });
      assert.equal(response.status, 401);
      assert.equal((response.json() as ErrorBody).error, 'bearer token signature is invalid');
    });

    it('forwards a verified call without its token', async () => {
      const token = await issueAdminToken(new TextEncoder().encode(ADMIN_SECRET), { roles: ['viewer'] });
      const options = { headers: { authorization: `Bearer ${token}` } };
      await gateway.waitUntil('/wl/open/echo', (answer) => answer.status !== 404, options);
      const response = await gateway.call('/wl/open/echo', options);
      assert.equal(response.status, 200);
      assert.equal((response.json() as EchoBody).headers.authorization, undefined);
    });
  });
});
