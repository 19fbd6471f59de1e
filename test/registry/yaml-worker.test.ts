import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { parseYamlOffThread } from '../../services/registry/adapters/yaml-worker.ts';
import { readFixture } from './harness.ts';

describe('parseYamlOffThread', () => {
  it('parses the Swagger 2.0 YAML', async () => {
    const text = await readFixture('commerce-occ-swagger2.yaml');
    const result = await parseYamlOffThread(text, 60_000);
    assert.ok(result.ok);
    assert.deepEqual(result.document, parseYaml(text));
  });

  it('reports invalid YAML', async () => {
    const result = await parseYamlOffThread('a: [1, 2\nb: }', 60_000);
    assert.equal(result.ok, false);
    assert.match(result.ok ? '' : result.reason, /neither valid JSON nor valid YAML/);
  });

  it('rejects alias bombs', async () => {
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
    for (let level = 1; level < 200; level++) {
      const previous = level === 1 ? 'a' : `l${level - 1}`;
      lines.push(`l${level}: &l${level} [*${previous}, *${previous}]`);
    }
    const result = await parseYamlOffThread(lines.join('\n'), 60_000);
    assert.equal(result.ok, false);
    assert.match(result.ok ? '' : result.reason, /alias/i);
  });

  it('stops at the timeout', async () => {
    const text = await readFixture('commerce-occ-swagger2.yaml');
    const result = await parseYamlOffThread(text, 1);
    assert.equal(result.ok, false);
    assert.match(result.ok ? '' : result.reason, /did not finish within 1 ms/);
  });
});
