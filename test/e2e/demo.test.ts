import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SERVICE_NAMES, SERVICE_PORTS, externalPortVariable, internalPortVariable } from '../../shared/config/services.ts';
import { freePort } from '../helpers/nats-server.ts';

/** Environment for a private copy of the whole system: own NATS, ports, certificates and store. */
async function isolatedEnvironment(workDir: string): Promise<Record<string, string>> {
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    NATS_URL: `nats://127.0.0.1:${await freePort()}`,
    FERRY_CERTS_DIR: path.join(workDir, 'certs'),
    FERRY_DATA_DIR: path.join(workDir, 'data'),
    FERRY_LOG_LEVEL: 'warn',
  };
  for (const name of SERVICE_NAMES) {
    env[internalPortVariable(name)] = String(await freePort());
    const external = SERVICE_PORTS[name].external;
    if (external !== undefined) {
      const port = await freePort();
      env[externalPortVariable(name)] = String(port);
      env[`FERRY_${name.toUpperCase()}_PUBLIC_URL`] = `https://localhost:${port}`;
    }
  }
  return env;
}

describe('commerce demo', () => {
  let workDir: string;

  before(async () => {
    workDir = await mkdtemp(path.join(os.tmpdir(), 'ferry-e2e-'));
  });
  after(async () => {
    await rm(workDir, { recursive: true, force: true });
  });

  it('runs end to end on the real fixtures', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/demo.ts'], { env: await isolatedEnvironment(workDir), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));

    assert.equal(code, 0, output);
    assert.match(output, /not running, starting it with npm start/);
    assert.match(output, /paired as commerce/);
    assert.match(output, /event catalog: 40 types, including order\.created v1/);
    assert.match(output, /order 76272727: .*"total":1249\.9/);
    assert.match(output, /order 76272728: .*"total":89\.5/);
    assert.match(output, /demo passed/);
  });
});
