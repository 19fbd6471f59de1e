import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import { SignJWT, exportJWK, generateKeyPair, type JWK } from 'jose';
import pino from 'pino';
import { AdminRole, createAdminTokenVerifier, requireRole, type AdminTokenVerifier } from '../../shared/auth/admin-auth.ts';
import { issueAdminToken } from '../../shared/auth/issue-admin-token.ts';
import { createErrorHandler } from '../../shared/errors/http-handler.ts';
import { request } from '../helpers/http.ts';

const SECRET = 'a-test-secret-that-is-long-enough-for-hs256';
const secretBytes = new TextEncoder().encode(SECRET);

async function startApp(verify: AdminTokenVerifier): Promise<{ url: string; server: http.Server }> {
  const app = express();
  app.get('/read', requireRole(verify, AdminRole.Viewer), (req, res) => {
    res.json({ subject: req.principal?.subject });
  });
  app.post('/write', requireRole(verify, AdminRole.Admin), (_req, res) => {
    res.status(201).json({ ok: true });
  });
  app.use(createErrorHandler(pino({ level: 'silent' })));
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

describe('admin JWT with a shared secret', () => {
  let base: { url: string; server: http.Server };

  before(async () => {
    const verify = await createAdminTokenVerifier({ mode: 'secret', secret: SECRET, secretFile: '/nonexistent', issuer: undefined, audience: undefined });
    base = await startApp(verify);
  });
  after(() => base.server.close());

  it('accepts a valid admin token', async () => {
    const token = await issueAdminToken(secretBytes, { subject: 'alice' });
    const read = await request(`${base.url}/read`, { headers: bearer(token) });
    assert.equal(read.status, 200);
    assert.deepEqual(read.json(), { subject: 'alice' });
    const write = await request(`${base.url}/write`, { method: 'POST', headers: bearer(token) });
    assert.equal(write.status, 201);
  });

  it('lets a viewer read but not write', async () => {
    const token = await issueAdminToken(secretBytes, { roles: ['viewer'] });
    assert.equal((await request(`${base.url}/read`, { headers: bearer(token) })).status, 200);
    const write = await request(`${base.url}/write`, { method: 'POST', headers: bearer(token) });
    assert.equal(write.status, 403);
    assert.deepEqual(write.json(), { code: 403, error: "role 'admin' is required, the token grants [viewer]" });
  });

  it('rejects a token without a known role', async () => {
    const token = await issueAdminToken(secretBytes, { roles: ['superuser'] });
    assert.equal((await request(`${base.url}/read`, { headers: bearer(token) })).status, 403);
  });

  it('rejects an expired token', async () => {
    const token = await new SignJWT({ roles: ['admin'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
      .sign(secretBytes);
    const response = await request(`${base.url}/read`, { headers: bearer(token) });
    assert.equal(response.status, 401);
    assert.deepEqual(response.json(), { code: 401, error: 'bearer token has expired' });
  });

  it('rejects another algorithm with the same secret', async () => {
    const token = await new SignJWT({ roles: ['admin'] }).setProtectedHeader({ alg: 'HS512' }).setExpirationTime('1h').sign(secretBytes);
    const response = await request(`${base.url}/read`, { headers: bearer(token) });
    assert.equal(response.status, 401);
    assert.deepEqual(response.json(), { code: 401, error: 'bearer token uses an algorithm that is not allowed' });
  });

  it('rejects an unsigned token', async () => {
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    const payload = Buffer.from(JSON.stringify({ roles: ['admin'], exp: Math.floor(Date.now() / 1000) + 3600 })).toString('base64url');
    const response = await request(`${base.url}/read`, { headers: bearer(`${header}.${payload}.`) });
    assert.equal(response.status, 401);
  });

  it('rejects a token signed with another secret', async () => {
    const token = await issueAdminToken(new TextEncoder().encode('another-secret-that-is-long-enough-too'));
    const response = await request(`${base.url}/read`, { headers: bearer(token) });
    assert.equal(response.status, 401);
    assert.deepEqual(response.json(), { code: 401, error: 'bearer token signature is invalid' });
  });

  it('rejects a missing header', async () => {
    const response = await request(`${base.url}/read`);
    assert.equal(response.status, 401);
    assert.deepEqual(response.json(), { code: 401, error: 'missing Authorization header with a Bearer token' });
  });

  it('rejects garbage', async () => {
    for (const header of ['Bearer', 'Basic dXNlcjpwYXNz', 'Bearer not.a.jwt', `Bearer ${'x'.repeat(5000)}`]) {
      const response = await request(`${base.url}/read`, { headers: { authorization: header } });
      assert.equal(response.status, 401, header.slice(0, 30));
    }
  });
});

describe('admin JWT with an OIDC issuer', () => {
  let base: { url: string; server: http.Server };
  let issuerServer: http.Server;
  let issuer: string;
  let privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

  before(async () => {
    const keys = await generateKeyPair('RS256');
    privateKey = keys.privateKey;
    const jwk: JWK = { ...(await exportJWK(keys.publicKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };

    issuerServer = http.createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.url === '/.well-known/openid-configuration') {
        res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks` }));
      } else if (req.url === '/jwks') {
        res.end(JSON.stringify({ keys: [jwk] }));
      } else {
        res.statusCode = 404;
        res.end('{}');
      }
    });
    await new Promise<void>((resolve) => issuerServer.listen(0, '127.0.0.1', resolve));
    issuer = `http://127.0.0.1:${(issuerServer.address() as AddressInfo).port}`;

    const verify = await createAdminTokenVerifier({ mode: 'oidc', issuer, audience: 'ferry', jwksUrl: undefined, algorithms: ['RS256'] });
    base = await startApp(verify);
  });
  after(() => {
    base.server.close();
    issuerServer.close();
  });

  const sign = (claims: Record<string, unknown>, audience = 'ferry', issuedBy = issuer) =>
    new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'test-key' }).setIssuer(issuedBy).setAudience(audience).setExpirationTime('5m').sign(privateKey);

  it('accepts a token from the issuer', async () => {
    const token = await sign({ roles: ['admin'], sub: 'ops' });
    const response = await request(`${base.url}/read`, { headers: bearer(token) });
    assert.equal(response.status, 200);
    assert.deepEqual(response.json(), { subject: 'ops' });
  });

  it('rejects another audience', async () => {
    const token = await sign({ roles: ['admin'] }, 'someone-else');
    const response = await request(`${base.url}/read`, { headers: bearer(token) });
    assert.equal(response.status, 401);
    assert.match((response.json() as { error: string }).error, /claim 'aud'/);
  });

  it('rejects another issuer', async () => {
    const token = await sign({ roles: ['admin'] }, 'ferry', 'https://evil.invalid');
    assert.equal((await request(`${base.url}/read`, { headers: bearer(token) })).status, 401);
  });

  it('rejects an HS256 token made with the public key', async () => {
    const token = await new SignJWT({ roles: ['admin'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(issuer)
      .setAudience('ferry')
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode('guessable-secret-guessable-secret'));
    const response = await request(`${base.url}/read`, { headers: bearer(token) });
    assert.equal(response.status, 401);
  });
});
