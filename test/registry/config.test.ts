import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DEFAULT_APPLICATION_BODY_LIMIT_BYTES,
  DEFAULT_GENERATED_CERT_VALIDITY_MS,
  DEFAULT_METADATA_BODY_LIMIT_BYTES,
  DEFAULT_SPEC_FETCH_TIMEOUT_MS,
  DEFAULT_SPEC_MAX_BYTES,
  DEFAULT_SPEC_PARSE_TIMEOUT_MS,
  parseRegistryConfig,
} from '../../services/registry/config.ts';
import { ConfigError } from '../../shared/errors/errors.ts';

describe('registry config', () => {
  it('has defaults', () => {
    const config = parseRegistryConfig({});
    assert.equal(config.specFetchTimeoutMs, DEFAULT_SPEC_FETCH_TIMEOUT_MS);
    assert.equal(config.specFetchTimeoutMs, 20_000);
    assert.equal(config.specParseTimeoutMs, DEFAULT_SPEC_PARSE_TIMEOUT_MS);
    assert.equal(config.specMaxBytes, DEFAULT_SPEC_MAX_BYTES);
    assert.equal(config.specMaxBytes, 10 * 1024 * 1024);
    assert.equal(config.metadataBodyLimitBytes, DEFAULT_METADATA_BODY_LIMIT_BYTES);
    assert.equal(config.metadataBodyLimitBytes, 16 * 1024 * 1024);
    assert.equal(config.applicationBodyLimitBytes, DEFAULT_APPLICATION_BODY_LIMIT_BYTES);
    assert.equal(config.generatedCertValidityMs, DEFAULT_GENERATED_CERT_VALIDITY_MS);
    assert.ok(Object.isFrozen(config));
  });

  it('reads overrides', () => {
    const config = parseRegistryConfig({ FERRY_SPEC_FETCH_TIMEOUT_MS: '1500', FERRY_SPEC_MAX_BYTES: '2048', FERRY_METADATA_BODY_LIMIT_BYTES: '4096' });
    assert.equal(config.specFetchTimeoutMs, 1500);
    assert.equal(config.specMaxBytes, 2048);
    assert.equal(config.metadataBodyLimitBytes, 4096);
  });

  it('names the invalid variable', () => {
    const cases: [string, string][] = [
      ['FERRY_SPEC_FETCH_TIMEOUT_MS', 'soon'],
      ['FERRY_SPEC_FETCH_TIMEOUT_MS', '0'],
      ['FERRY_SPEC_MAX_BYTES', '-1'],
      ['FERRY_SPEC_PARSE_TIMEOUT_MS', '50'],
      ['FERRY_METADATA_BODY_LIMIT_BYTES', '1.5'],
      ['FERRY_APPLICATION_BODY_LIMIT_BYTES', '10'],
      ['FERRY_GENERATED_CERT_VALIDITY_MS', 'x'],
    ];
    for (const [name, value] of cases) {
      assert.throws(() => parseRegistryConfig({ [name]: value }), (error: unknown) => error instanceof ConfigError && error.message.startsWith(name));
    }
  });
});
