import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_NATS_URL, parseCommonConfig } from '../../shared/config/common.ts';
import { ConfigError } from '../../shared/errors/errors.ts';

describe('common config', () => {
  it('uses the documented defaults', () => {
    const config = parseCommonConfig({});
    assert.equal(config.natsUrl, DEFAULT_NATS_URL);
    assert.equal(config.ports.connector.external, 8443);
    assert.equal(config.ports.functions.internal, 8085);
    assert.equal(config.publicUrls.events, 'https://localhost:8445');
    assert.equal(config.internalUrls.dispatcher, 'http://127.0.0.1:8084');
    assert.equal(config.trustForwardedClientCert, false);
    assert.equal(config.adminAuth.mode, 'secret');
  });

  it('is deeply frozen', () => {
    const config = parseCommonConfig({});
    assert.ok(Object.isFrozen(config));
    assert.ok(Object.isFrozen(config.ports.events));
    assert.throws(() => {
      (config as { natsUrl: string }).natsUrl = 'nats://elsewhere:4222';
    }, TypeError);
  });

  it('reads overrides', () => {
    const config = parseCommonConfig({
      NATS_URL: 'nats://nats:4222',
      FERRY_EVENTS_EXTERNAL_PORT: '9445',
      FERRY_TRUST_XFCC: 'true',
      FERRY_EVENTS_PUBLIC_URL: 'https://gateway.example.com/',
      FERRY_EGRESS_ALLOWED_HOSTS: 'a.example, b.example,',
    });
    assert.equal(config.natsUrl, 'nats://nats:4222');
    assert.equal(config.ports.events.external, 9445);
    assert.equal(config.trustForwardedClientCert, true);
    assert.equal(config.publicUrls.events, 'https://gateway.example.com');
    assert.deepEqual(config.egress.allowedHosts, ['a.example', 'b.example']);
  });

  const invalid: [string, Record<string, string>, RegExp][] = [
    ['a port that is not a number', { FERRY_REGISTRY_INTERNAL_PORT: 'http' }, /^FERRY_REGISTRY_INTERNAL_PORT must be a whole number, got 'http'$/],
    ['a port out of range', { FERRY_CONNECTOR_EXTERNAL_PORT: '70000' }, /^FERRY_CONNECTOR_EXTERNAL_PORT must be between 0 and 65535/],
    ['a NATS URL with another scheme', { NATS_URL: 'http://127.0.0.1:4222' }, /^NATS_URL must use one of nats:/],
    ['a NATS URL that is not a URL', { NATS_URL: 'localhost' }, /^NATS_URL must be an absolute URL, got 'localhost'$/],
    ['a boolean that is not one', { FERRY_TRUST_XFCC: 'maybe' }, /^FERRY_TRUST_XFCC must be true or false, got 'maybe'$/],
    ['an unknown log level', { FERRY_LOG_LEVEL: 'loud' }, /^FERRY_LOG_LEVEL must be one of fatal, error/],
    ['a short JWT secret', { FERRY_ADMIN_JWT_SECRET: 'short' }, /^FERRY_ADMIN_JWT_SECRET must be at least 32 bytes long$/],
    ['a public URL without TLS', { FERRY_CONNECTOR_PUBLIC_URL: 'http://localhost:8443' }, /^FERRY_CONNECTOR_PUBLIC_URL must use one of https:/],
    ['a symmetric OIDC algorithm', { FERRY_ADMIN_OIDC_ISSUER: 'https://id.example', FERRY_ADMIN_JWT_ALGORITHMS: 'HS256' }, /^FERRY_ADMIN_JWT_ALGORITHMS must list asymmetric/],
    ['a fractional number', { FERRY_TOKEN_TTL_MS: '1.5' }, /^FERRY_TOKEN_TTL_MS must be a whole number/],
    ['a TTL under the minimum', { FERRY_TOKEN_TTL_MS: '10' }, /^FERRY_TOKEN_TTL_MS must be between 1000/],
  ];

  for (const [name, env, message] of invalid) {
    it(`rejects ${name}`, () => {
      assert.throws(() => parseCommonConfig(env), (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.match(error.message, message);
        return true;
      });
    });
  }
});
