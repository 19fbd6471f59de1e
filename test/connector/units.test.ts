import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../shared/errors/errors.ts';
import { DAY_MS } from '../../shared/pki/certificates.ts';
import { DEFAULT_CERT_SUBJECT, parseConnectorConfig } from '../../services/connector/config.ts';
import { createApplicationSubject, findSubjectMismatch, formatSubject } from '../../services/connector/domain/certificate-subject.ts';
import { DerError, parseDer } from '../../services/connector/domain/der.ts';
import { createApplicationUrls, createCsrUrl, createTokenUrl } from '../../services/connector/domain/pairing-urls.ts';

describe('connector config', () => {
  it('has defaults for the subject and a validity of 92 days', () => {
    const config = parseConnectorConfig({});
    assert.deepEqual(config.subject, DEFAULT_CERT_SUBJECT);
    assert.equal(config.certificateValidityMs, 92 * DAY_MS);
    assert.ok(Object.isFrozen(config.subject));
  });

  it('reads the subject and validity from the environment', () => {
    const config = parseConnectorConfig({
      FERRY_CERT_SUBJECT_ORGANIZATION: 'Acme Corp.',
      FERRY_CERT_SUBJECT_ORGANIZATIONAL_UNIT: 'Integration (EU)',
      FERRY_CERT_SUBJECT_LOCALITY: 'Walldorf',
      FERRY_CERT_SUBJECT_PROVINCE: 'Baden-Wuerttemberg',
      FERRY_CERT_SUBJECT_COUNTRY: 'DE',
      FERRY_CERT_VALIDITY_DAYS: '30',
    });
    assert.deepEqual(config.subject, {
      organization: 'Acme Corp.',
      organizationalUnit: 'Integration (EU)',
      locality: 'Walldorf',
      province: 'Baden-Wuerttemberg',
      country: 'DE',
    });
    assert.equal(config.certificateValidityMs, 30 * DAY_MS);
  });

  it('rejects values that cannot be advertised or issued, naming the variable', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ FERRY_CERT_SUBJECT_ORGANIZATION: 'Acme, Inc' }, /^FERRY_CERT_SUBJECT_ORGANIZATION must be 1 to 64 letters/],
      [{ FERRY_CERT_SUBJECT_LOCALITY: 'CN=evil' }, /^FERRY_CERT_SUBJECT_LOCALITY must be/],
      [{ FERRY_CERT_SUBJECT_PROVINCE: 'x'.repeat(65) }, /^FERRY_CERT_SUBJECT_PROVINCE must be/],
      [{ FERRY_CERT_SUBJECT_ORGANIZATIONAL_UNIT: 'M\u00fcnchen' }, /^FERRY_CERT_SUBJECT_ORGANIZATIONAL_UNIT must be/],
      [{ FERRY_CERT_SUBJECT_COUNTRY: 'Germany' }, /^FERRY_CERT_SUBJECT_COUNTRY must be two upper-case letters/],
      [{ FERRY_CERT_VALIDITY_DAYS: '0' }, /^FERRY_CERT_VALIDITY_DAYS must be between 1 and 3650/],
      [{ FERRY_CERT_VALIDITY_DAYS: 'ninety' }, /^FERRY_CERT_VALIDITY_DAYS must be a whole number/],
    ];
    for (const [env, message] of cases) {
      assert.throws(() => parseConnectorConfig(env), (error: unknown) => error instanceof ConfigError && message.test(error.message));
    }
  });
});

describe('certificate subject', () => {
  const expected = createApplicationSubject(DEFAULT_CERT_SUBJECT, 'commerce');

  it('formats the subject in the advertised order', () => {
    assert.equal(formatSubject(expected), 'O=Ferry,OU=Applications,L=Berlin,ST=Berlin,C=DE,CN=commerce');
  });

  it('accepts the expected attributes in any order, plus others', () => {
    const fields = Object.entries(expected)
      .reverse()
      .map(([shortName, value]) => ({ shortName, value }));
    assert.equal(findSubjectMismatch([...fields, { shortName: 'E', value: 'a@b.c' }], expected), undefined);
  });

  it('names the first problem, CN first', () => {
    const fields = [{ shortName: 'CN', value: 'crm' }];
    assert.equal(findSubjectMismatch(fields, expected), "CSR subject CN must be the application 'commerce', got 'crm'");
    assert.equal(findSubjectMismatch([{ shortName: 'CN', value: 'commerce' }], expected), 'CSR subject has no C, expected C=DE');
  });
});

describe('DER reader', () => {
  it('reads nested values and their extents', () => {
    const node = parseDer(Buffer.from([0x30, 0x06, 0x02, 0x01, 0x05, 0x04, 0x01, 0xff]));
    assert.equal(node.tag, 0x30);
    assert.deepEqual(
      node.children.map((child) => [child.tag, child.start, child.contentStart, child.end]),
      [
        [0x02, 2, 4, 5],
        [0x04, 5, 7, 8],
      ],
    );
  });

  it('reads long-form lengths', () => {
    const content = Buffer.alloc(300, 0x41);
    const node = parseDer(Buffer.concat([Buffer.from([0x04, 0x82, 0x01, 0x2c]), content]));
    assert.equal(node.end - node.contentStart, 300);
  });

  it('stops at the depth limit without recursing further', () => {
    const depth = 100_000;
    const der = Buffer.alloc(depth * 2);
    for (let i = 0; i < depth; i++) {
      der[i * 2] = 0x30;
      der[i * 2 + 1] = 0x80;
    }
    assert.throws(() => parseDer(der), DerError);

    let value = Buffer.alloc(0);
    for (let i = 0; i < 40; i++) {
      value = Buffer.concat([Buffer.from([0x30, value.length]), value]);
    }
    assert.throws(() => parseDer(value), /nesting is deeper than 32 levels at byte 64/);
    assert.doesNotThrow(() => parseDer(value, 64));
  });

  it('rejects truncated, indefinite and trailing input', () => {
    assert.throws(() => parseDer(Buffer.alloc(0)), /missing value at byte 0/);
    assert.throws(() => parseDer(Buffer.from([0x30])), /missing length at byte 1/);
    assert.throws(() => parseDer(Buffer.from([0x30, 0x82, 0x01])), /length runs past the end at byte 1/);
    assert.throws(() => parseDer(Buffer.from([0x30, 0x80, 0x00, 0x00])), /indefinite length/);
    assert.throws(() => parseDer(Buffer.from([0x05, 0x00, 0x05])), /1 trailing bytes/);
  });
});

describe('pairing URLs', () => {
  const publicUrls = { connector: 'https://gw.example/connector', registry: 'https://gw.example', events: 'https://events.example' };

  it('builds every URL from the public base URLs', () => {
    assert.deepEqual(createApplicationUrls(publicUrls, 'commerce'), {
      eventsInfoUrl: 'https://events.example/commerce/v1/events/subscribed',
      eventsUrl: 'https://events.example/commerce/events',
      metadataUrl: 'https://gw.example/commerce/v1/metadata/services',
      infoUrl: 'https://gw.example/connector/v1/applications/management/info',
      certificatesUrl: 'https://gw.example/connector/v1/applications/certificates',
      renewCertUrl: 'https://gw.example/connector/v1/applications/certificates/renewals',
      revokeCertUrl: 'https://gw.example/connector/v1/applications/certificates/revocations',
    });
    assert.equal(createTokenUrl(publicUrls, 'a-b_c'), 'https://gw.example/connector/v1/applications/signingRequests/info?token=a-b_c');
    assert.equal(createCsrUrl(publicUrls, 'a-b_c'), 'https://gw.example/connector/v1/applications/certificates?token=a-b_c');
  });
});
