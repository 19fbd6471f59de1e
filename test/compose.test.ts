import assert from 'node:assert/strict';
import { access, readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { SERVICE_NAMES, SERVICE_PORTS } from '../shared/config/services.ts';

type ComposeService = { command?: string[]; ports?: string[]; environment?: Record<string, string>; volumes?: string[] };
type ComposeFile = { services: Record<string, ComposeService>; volumes: Record<string, unknown> };

async function loadCompose(): Promise<ComposeFile> {
  return parse(await readFile('docker-compose.yml', 'utf8'), { merge: true }) as ComposeFile;
}

describe('docker-compose.yml', () => {
  it('runs NATS with JetStream on a volume', async () => {
    const { services, volumes } = await loadCompose();
    const command = services.nats?.command ?? [];
    assert.ok(command.includes('-js'));
    const storeDir = command[command.indexOf('-sd') + 1];
    const mount = services.nats?.volumes?.find((volume) => volume.endsWith(`:${storeDir}`));
    assert.ok(mount, 'the JetStream store is on a volume');
    assert.ok(mount.split(':')[0]! in volumes);
  });

  it('has one container per service with its own entry point', async () => {
    const { services } = await loadCompose();
    for (const name of SERVICE_NAMES) {
      const service = services[name];
      assert.ok(service, `${name} is defined`);
      const entry = `services/${name}/main.ts`;
      assert.deepEqual(service.command, ['node', '--import', 'tsx', entry]);
      await access(entry);
    }
  });

  it('publishes the default ports of each service', async () => {
    const { services } = await loadCompose();
    for (const name of SERVICE_NAMES) {
      const expected = [SERVICE_PORTS[name].external, SERVICE_PORTS[name].internal].filter((port) => port !== undefined).map((port) => `${port}:${port}`);
      assert.deepEqual([...(services[name]?.ports ?? [])].sort(), expected.sort(), name);
    }
  });

  it('points every internal URL at a service port', async () => {
    const { services } = await loadCompose();
    const environment = services.events?.environment ?? {};
    assert.equal(environment.NATS_URL, 'nats://nats:4222');
    assert.equal(environment.FERRY_HOST, '0.0.0.0');
    for (const name of SERVICE_NAMES) {
      assert.equal(environment[`FERRY_${name.toUpperCase()}_URL`], `http://${name}:${SERVICE_PORTS[name].internal}`);
    }
  });
});
