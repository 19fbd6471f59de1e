import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SERVICE_NAMES, SERVICE_PORTS, externalPortVariable, internalPortVariable } from '../shared/config/services.ts';
import { createAdminTokenVerifier, loadAdminSecret } from '../shared/auth/admin-auth.ts';
import { request } from './helpers/http.ts';
import { freePort } from './helpers/nats-server.ts';

describe('npm start', () => {
  let workDir: string;

  before(async () => {
    workDir = await mkdtemp(path.join(os.tmpdir(), 'ferry-start-'));
  });
  after(async () => {
    await rm(workDir, { recursive: true, force: true });
  });

  it('starts NATS and all services, then stops on SIGINT', async () => {
    const env: Record<string, string> = {
      ...(process.env as Record<string, string>),
      NATS_URL: `nats://127.0.0.1:${await freePort()}`,
      FERRY_CERTS_DIR: path.join(workDir, 'certs'),
      FERRY_DATA_DIR: path.join(workDir, 'data'),
    };
    const internalUrls: string[] = [];
    for (const name of SERVICE_NAMES) {
      const internal = await freePort();
      env[internalPortVariable(name)] = String(internal);
      internalUrls.push(`http://127.0.0.1:${internal}`);
      if (SERVICE_PORTS[name].external !== undefined) {
        env[externalPortVariable(name)] = String(await freePort());
      }
    }

    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

    try {
      const deadline = Date.now() + 60_000;
      while (!output.includes('all services ready') && Date.now() < deadline && child.exitCode === null) {
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      assert.match(output, /all services ready in [\d.]+ s/, output);
      assert.match(output, /starting .*nats-server -js/);
      assert.match(output, /TOKEN=\$\(npm run --silent admin-token\)/);

      for (const url of internalUrls) {
        assert.equal((await request(`${url}/readyz`)).status, 200, url);
      }
      const key = await stat(path.join(workDir, 'certs', 'ca.key.pem'));
      assert.equal(key.mode & 0o077, 0, 'the CA key is readable by its owner only');
    } finally {
      child.kill('SIGINT');
    }

    assert.equal(await exited, 0, output);
    for (const url of internalUrls) {
      await assert.rejects(request(`${url}/healthz`), /ECONNREFUSED/, `${url} is closed after the stop`);
    }
  });

  it('admin-token prints only a token that verifies', async () => {
    const certsDir = path.join(workDir, 'certs');
    const env = { ...process.env, FERRY_CERTS_DIR: certsDir };
    const stdout = execFileSync(process.execPath, ['--import', 'tsx', 'scripts/admin-token.ts'], { env, encoding: 'utf8' });
    assert.match(stdout, /^[\w-]+\.[\w-]+\.[\w-]+\n$/);

    const secret = await loadAdminSecret({ mode: 'secret', secret: undefined, secretFile: path.join(certsDir, 'admin-jwt-secret'), issuer: undefined, audience: undefined });
    const verify = await createAdminTokenVerifier({ mode: 'secret', secret: new TextDecoder().decode(secret), secretFile: '', issuer: undefined, audience: undefined });
    assert.deepEqual((await verify(stdout.trim())).roles, ['admin']);
  });
});
