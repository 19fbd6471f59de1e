import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { splitLegacyType } from '../../cli/commands/system.ts';
import { tailSubject } from '../../cli/commands/tail.ts';
import { formatTable, toText } from '../../cli/output.ts';

function ferry(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['bin/ferry.js', ...args], { env: { ...process.env, ...env }, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('ferry command line', () => {
  it('prints help and exits 0', () => {
    const result = ferry(['--help']);
    assert.equal(result.status, 0);
    assert.match(result.stdout, /ferry pair <pairing-url> --dir D/);
  });

  it('prints help for each command', () => {
    for (const command of ['app', 'sub', 'pair', 'send']) {
      const result = ferry([command, '--help']);
      assert.equal(result.status, 0, command);
      assert.match(result.stdout, new RegExp(`ferry ${command}`), command);
    }
  });

  it('exits 2 on wrong usage', () => {
    assert.equal(ferry([]).status, 2);
    assert.equal(ferry(['launch']).status, 2);
    const unknownOption = ferry(['token', 'commerce', '--bogus']);
    assert.equal(unknownOption.status, 2);
    assert.match(unknownOption.stderr, /Unknown option '--bogus'/);
    const missing = ferry(['register', '--dir', '/tmp']);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /missing option --name/);
    assert.equal(ferry(['app', 'rename', 'x']).status, 2);
  });

  it('exits 1 when the service is unreachable', () => {
    const result = ferry(['app', 'list', '--token', 'x.y.z'], { FERRY_REGISTRY_URL: 'http://127.0.0.1:9' });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /GET http:\/\/127\.0\.0\.1:9\/v1\/applications failed: .*Is Ferry running/);
  });

  it('exits 1 without a pairing', () => {
    const result = ferry(['send', '--dir', '/nonexistent/pairing', '--type', 'order.created.v1']);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /cannot read the pairing in \/nonexistent\/pairing/);
  });
});

describe('ferry helpers', () => {
  it('splits legacy types', () => {
    assert.deepEqual(splitLegacyType('order.created.v1'), { eventType: 'order.created', version: 'v1' });
    assert.throws(() => splitLegacyType('order'), /must end with a version/);
    assert.throws(() => splitLegacyType('order.v-1'), /must end with a version/);
  });

  it('builds tail subjects', () => {
    assert.equal(tailSubject(undefined, undefined), 'ferry.events.*.>');
    assert.equal(tailSubject('commerce', 'order.created.v1'), 'ferry.events.commerce.order.created.v1');
    assert.equal(tailSubject('commerce', 'a>b'), 'ferry.events.commerce.a~3Eb');
  });

  it('formats tables and values', () => {
    assert.equal(formatTable(['A', 'LONGER'], [['xyz', '1']]), 'A    LONGER\nxyz  1');
    assert.equal(toText(undefined), '');
    assert.equal(toText({ a: 1 }), '{"a":1}');
    assert.equal(toText(3), '3');
  });
});
