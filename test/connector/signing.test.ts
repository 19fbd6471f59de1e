import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import forge from 'node-forge';
import type { KeyPairPem } from '../../shared/pki/certificates.ts';
import { request, type TestResponse } from '../helpers/http.ts';
import { TestNatsServer } from '../helpers/nats-server.ts';
import { createTestPki, type TestPki } from '../helpers/pki.ts';
import {
  ApplicationsFixture,
  expectedSubject,
  forgeCsrPem,
  newKeys,
  newToken,
  opensslCsr,
  postJson,
  removeDir,
  startTestConnector,
  toBase64,
  writePkiFiles,
  type PkiFiles,
  type TestConnector,
} from './harness.ts';

/** Encode one DER value with a definite length. */
function tlv(tag: number, content: Buffer): Buffer {
  const length = content.length;
  const header =
    length < 0x80
      ? [tag, length]
      : length < 0x100
        ? [tag, 0x81, length]
        : length < 0x10000
          ? [tag, 0x82, length >> 8, length & 0xff]
          : [tag, 0x83, length >> 16, (length >> 8) & 0xff, length & 0xff];
  return Buffer.concat([Buffer.from(header), content]);
}

function nest(tag: number, depth: number, inner: Buffer, prefix = Buffer.alloc(0)): Buffer {
  let value = inner;
  for (let i = 0; i < depth; i++) {
    value = tlv(tag, Buffer.concat([prefix, value]));
  }
  return value;
}

function pemOf(der: Buffer, label = 'CERTIFICATE REQUEST'): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

function derOf(csrPem: string): Buffer {
  return Buffer.from(forge.pem.decode(csrPem)[0]!.body, 'binary');
}

/** Rebuild a CSR's DER after changing its ASN.1 with `change`, keeping the old signature. */
function tamper(csrPem: string, change: (asn1: forge.asn1.Asn1) => void): Buffer {
  const asn1 = forge.asn1.fromDer(derOf(csrPem).toString('binary'));
  change(asn1);
  return Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary');
}

describe('connector signing', () => {
  let nats: TestNatsServer;
  let pki: TestPki;
  let files: PkiFiles;
  let connector: TestConnector;
  let apps: ApplicationsFixture;
  let keys: KeyPairPem;
  let goodCsr: string;

  before(async () => {
    nats = await TestNatsServer.start();
    pki = await createTestPki();
    files = await writePkiFiles(pki);
    connector = await startTestConnector(nats.url, files);
    apps = await ApplicationsFixture.connect(nats.url);
    await apps.create('commerce');
    await apps.create('crm');
    keys = await newKeys();
    goodCsr = forgeCsrPem(keys, expectedSubject('commerce'));
  });

  after(async () => {
    await apps?.close();
    await connector?.stop();
    await nats?.stop();
    if (files) await removeDir(files.dir);
  });

  const csrUrl = (token: string): string => `${connector.externalUrl}/v1/applications/certificates?token=${token}`;

  async function sign(token: string, body: unknown, headers: Record<string, string> = {}): Promise<TestResponse> {
    return postJson(csrUrl(token), body, { ca: pki.ca.certificatePem, headers });
  }

  /** Send `body` with a fresh token and expect `status` and a message matching `message`. */
  async function expectRejected(body: unknown, status: number, message: RegExp, application = 'commerce'): Promise<string> {
    const { token } = await newToken(connector.internalUrl, application);
    const response = await sign(token, body);
    assert.equal(response.status, status, response.body);
    const error = response.json() as { code: number; error: string };
    assert.equal(error.code, status);
    assert.match(error.error, message);
    return token;
  }

  async function expectCsrRejected(csrPem: string, message: RegExp): Promise<void> {
    await expectRejected({ csr: toBase64(csrPem) }, 400, message);
  }

  describe('bodies', () => {
    it('answers 400 when the body is not JSON', async () => {
      await expectRejected('csr=abc', 400, /request body is not valid JSON/);
      await expectRejected('{"csr": ', 400, /request body is not valid JSON/);
    });

    it('answers 400 when the body is JSON but not an object', async () => {
      await expectRejected([], 400, /must be a JSON object with a `csr` field/);
      await expectRejected('null', 400, /must be a JSON object with a `csr` field/);
      await expectRejected('"c3Ry"', 400, /must be a JSON object with a `csr` field/);
    });

    it('answers 400 when csr is missing or not a string', async () => {
      await expectRejected({}, 400, /`csr` is required/);
      await expectRejected({ certificate: toBase64(goodCsr) }, 400, /`csr` is required/);
      await expectRejected({ csr: 42 }, 400, /`csr` must be a string/);
    });

    it('answers 413 for a body over 64 KiB', async () => {
      const response = await expectRejected({ csr: 'A'.repeat(64 * 1024) }, 413, /exceeds the limit of 65536 bytes/);
      assert.ok(response);
    });
  });

  describe('CSR encoding', () => {
    it('answers 400 when csr is not base64', async () => {
      await expectRejected({ csr: 'not base64!' }, 400, /`csr` is not valid base64/);
      await expectRejected({ csr: 'QUJD=' }, 400, /`csr` is not valid base64/);
    });

    it('answers 400 when csr is not a PEM certificate request', async () => {
      await expectRejected({ csr: toBase64('hello') }, 400, /`csr` is not a PEM certificate request/);
      await expectRejected({ csr: derOf(goodCsr).toString('base64') }, 400, /`csr` is not a PEM certificate request/);
      await expectRejected({ csr: toBase64(pki.ca.certificatePem) }, 400, /`csr` is a PEM 'CERTIFICATE', expected a 'CERTIFICATE REQUEST'/);
      await expectRejected({ csr: toBase64(pemOf(Buffer.alloc(0))) }, 400, /empty PEM certificate request/);
    });

    it('answers 400 for DER that is not a PKCS#10 request', async () => {
      await expectCsrRejected(pemOf(Buffer.from(pki.ca.certificatePem.length.toString())), /not valid DER/);
      await expectCsrRejected(pemOf(tlv(0x30, tlv(0x02, Buffer.from([1])))), /not a PKCS#10 certificate request/);
      const noAlgorithmOid = tamper(goodCsr, (asn1) => {
        (asn1.value as forge.asn1.Asn1[])[1] = forge.asn1.create(forge.asn1.Class.UNIVERSAL, forge.asn1.Type.SEQUENCE, true, []);
      });
      await expectCsrRejected(pemOf(noAlgorithmOid), /not a valid PKCS#10 certificate request/);
    });
  });

  describe('hostile DER', () => {
    const csrPrefix = (inner: Buffer): Buffer => tlv(0x30, Buffer.concat([tlv(0x30, Buffer.concat([tlv(0x02, Buffer.from([0])), inner]))]));
    const tooDeep = /`csr` is not valid DER: nesting is deeper than 32 levels/;
    // Each case stays under the 16 KiB DER limit, so the DER reader itself must reject it.
    const cases: [string, Buffer, RegExp][] = [
      ['deeply nested SEQUENCEs', nest(0x30, 3500, Buffer.from([0x05, 0x00])), tooDeep],
      ['deeply nested SETs inside a CSR outline', csrPrefix(nest(0x31, 3500, Buffer.alloc(0))), tooDeep],
      ['deeply nested context tags', nest(0xa0, 3500, Buffer.alloc(0)), tooDeep],
      ['BIT STRINGs nested inside SEQUENCEs', nest(0x30, 2000, nest(0x03, 1, Buffer.from([0x05, 0x00]), Buffer.from([0]))), tooDeep],
      ['indefinite lengths', Buffer.from(Array.from({ length: 15_000 }, (_, i) => (i % 2 === 0 ? 0x30 : 0x80))), /indefinite length is not allowed in DER at byte 1$/],
      ['a length past the end', Buffer.from([0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x02, 0x01, 0x00]), /runs past the end of its container at byte 0$/],
      ['a length of nine octets', Buffer.from([0x30, 0x89, 1, 2, 3, 4, 5, 6, 7, 8, 9]), /length of 9 octets is too long at byte 1$/],
      ['high tag numbers', Buffer.from([0x3f, 0x81, 0x80, 0x01, 0x00]), /high tag numbers are not supported at byte 0$/],
      ['trailing bytes', Buffer.from([0x30, 0x00, 0x00]), /1 trailing bytes after the value at byte 2$/],
      ['pseudo-random bytes', Buffer.from(Array.from({ length: 15_000 }, (_, i) => (i * 7919 + 13) % 251)), /`csr` is not (valid DER|a PKCS#10)/],
      ['a megabyte-scale length in a small value', tlv(0x30, Buffer.from([0x04, 0x83, 0x10, 0x00, 0x00, 0x00])), /runs past the end of its container at byte 2$/],
      ['nesting beyond the size limit', nest(0x30, 7000, Buffer.from([0x05, 0x00])), /holds a certificate request of \d+ bytes, the limit is 16384/],
    ];

    for (const [name, der, message] of cases) {
      it(`answers 400 quickly for ${name}`, async () => {
        const started = performance.now();
        await expectCsrRejected(pemOf(der), message);
        assert.ok(performance.now() - started < 1000, `took ${Math.round(performance.now() - started)} ms`);
      });
    }

    it('answers 400 for a well-formed CSR over 16 KiB', async () => {
      const huge = forgeCsrPem(keys, { ...expectedSubject('commerce') }, { attributes: [{ name: 'challengePassword', value: 'x'.repeat(20_000) }] });
      await expectCsrRejected(huge, /holds a certificate request of \d+ bytes, the limit is 16384/);
    });

    it('stays healthy after hostile input', async () => {
      const health = await request(`${connector.internalUrl}/healthz`);
      assert.equal(health.status, 200);
    });
  });

  describe('signature and key', () => {
    it('answers 400 for an invalid signature', async () => {
      const der = derOf(goodCsr);
      der[der.length - 1]! ^= 0x01;
      await expectCsrRejected(pemOf(der), /CSR signature is invalid/);

      // Re-signing is not possible without the key, so a changed subject keeps the old signature.
      const changed = tamper(goodCsr, (asn1) => {
        const info = (asn1.value as forge.asn1.Asn1[])[0]!;
        const subject = (info.value as forge.asn1.Asn1[])[1]!;
        const firstRdn = (subject.value as forge.asn1.Asn1[])[0]!;
        const attribute = (firstRdn.value as forge.asn1.Asn1[])[0]!;
        (attribute.value as forge.asn1.Asn1[])[1]!.value = 'Ferry Test Orh';
      });
      await expectCsrRejected(pemOf(changed), /CSR signature is invalid/);
    });

    it('answers 400 for an MD5 signature', async () => {
      await expectCsrRejected(forgeCsrPem(keys, expectedSubject('commerce'), { md: forge.md.md5.create() }), /signed with md5WithRSAEncryption/);
    });

    it('answers 400 for a key that is not RSA', async () => {
      const ec = await opensslCsr(files.dir, expectedSubject('commerce'), { keyArgs: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'] });
      await expectCsrRejected(ec.csrPem, /CSR key must be RSA, got ec/);
      const ed = await opensslCsr(files.dir, expectedSubject('commerce'), { keyArgs: ['-newkey', 'ed25519'] });
      await expectCsrRejected(ed.csrPem, /CSR key must be RSA, got ed25519/);
      const pss = await opensslCsr(files.dir, expectedSubject('commerce'), { keyArgs: ['-newkey', 'rsa-pss', '-pkeyopt', 'rsa_keygen_bits:2048'] });
      await expectCsrRejected(pss.csrPem, /CSR key must be RSA, got rsa-pss/);
    });

    it('answers 400 for an RSA key under 2048 bits', async () => {
      const small = await opensslCsr(files.dir, expectedSubject('commerce'), { keyArgs: ['-newkey', 'rsa:1024'] });
      await expectCsrRejected(small.csrPem, /CSR key has 1024 bits, at least 2048 are required/);
    });

    it('answers 400 for a public exponent other than 65537', async () => {
      const exponent3 = generateKeyPairSync('rsa', {
        modulusLength: 2048,
        publicExponent: 3,
        privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
        publicKeyEncoding: { type: 'spki', format: 'pem' },
      });
      const csr = forgeCsrPem({ privateKeyPem: exponent3.privateKey, publicKeyPem: exponent3.publicKey }, expectedSubject('commerce'));
      await expectCsrRejected(csr, /CSR key has public exponent 3, it must be 65537/);
    });
  });

  describe('subject', () => {
    const subject = expectedSubject('commerce');
    const without = (name: string): Record<string, string> => Object.fromEntries(Object.entries(subject).filter(([key]) => key !== name));

    it('answers 400 when CN differs from the application', async () => {
      await expectCsrRejected(forgeCsrPem(keys, { ...subject, CN: 'crm' }), /CSR subject CN must be the application 'commerce', got 'crm'/);
    });

    for (const name of ['O', 'OU', 'L', 'ST', 'C']) {
      it(`answers 400 when ${name} is missing or differs`, async () => {
        await expectCsrRejected(forgeCsrPem(keys, without(name)), new RegExp(`CSR subject has no ${name}, expected ${name}=`));
        const value = name === 'C' ? 'DE' : 'Something Else';
        await expectCsrRejected(forgeCsrPem(keys, { ...subject, [name]: value }), new RegExp(`CSR subject ${name} must be '.+', got '${value}'`));
      });
    }

    it('answers 400 when an attribute appears twice', async () => {
      const csr = forge.pki.createCertificationRequest();
      csr.publicKey = forge.pki.publicKeyFromPem(keys.publicKeyPem);
      csr.setSubject([...Object.entries(subject).map(([shortName, value]) => ({ shortName, value })), { shortName: 'CN', value: 'crm' }]);
      csr.sign(forge.pki.privateKeyFromPem(keys.privateKeyPem));
      await expectCsrRejected(forge.pki.certificationRequestToPem(csr), /CSR subject has 2 CN attributes, expected one/);
    });

    it('answers 400 for a CSR of another application than the token', async () => {
      const { token } = await newToken(connector.internalUrl, 'crm');
      const response = await sign(token, { csr: toBase64(goodCsr) });
      assert.equal(response.status, 400);
      assert.match((response.json() as { error: string }).error, /CN must be the application 'crm', got 'commerce'/);
    });
  });

  describe('tokens', () => {
    it('answers 403 for a missing, unknown, used or expired token', async () => {
      const body = { csr: toBase64(goodCsr) };
      const missing = await postJson(`${connector.externalUrl}/v1/applications/certificates`, body, { ca: pki.ca.certificatePem });
      assert.equal(missing.status, 403);
      assert.equal((await sign('B'.repeat(86), body)).status, 403);

      const { token } = await newToken(connector.internalUrl, 'commerce');
      assert.equal((await sign(token, body)).status, 201);
      const reused = await sign(token, body);
      assert.equal(reused.status, 403);
      assert.deepEqual(reused.json(), { code: 403, error: 'token has already been used' });

      const { token: expiring } = await newToken(connector.internalUrl, 'commerce');
      connector.clock.offsetMs = 5 * 60_000;
      try {
        const expired = await sign(expiring, body);
        assert.equal(expired.status, 403);
        assert.deepEqual(expired.json(), { code: 403, error: 'token has expired' });
      } finally {
        connector.clock.offsetMs = 0;
      }
    });

    it('keeps the token when the request is rejected', async () => {
      const token = await expectRejected({ csr: toBase64(forgeCsrPem(keys, { ...expectedSubject('commerce'), CN: 'crm' })) }, 400, /CN must be/);
      assert.equal((await sign(token, { csr: 'garbage' })).status, 400);
      assert.equal((await sign(token, { csr: toBase64(goodCsr) })).status, 201);
    });

    it('signs exactly once when one token is used concurrently', async () => {
      const { token } = await newToken(connector.internalUrl, 'commerce');
      const responses = await Promise.all(Array.from({ length: 12 }, () => sign(token, { csr: toBase64(goodCsr) })));
      const statuses = responses.map((response) => response.status).sort();
      assert.deepEqual(statuses, [201, ...Array<number>(11).fill(403)]);
      for (const response of responses.filter((r) => r.status === 403)) {
        assert.deepEqual(response.json(), { code: 403, error: 'token has already been used' });
      }
    });

    it('signs exactly once when one token is used concurrently on two replicas', async () => {
      const replica = await startTestConnector(nats.url, files);
      try {
        const { token } = await newToken(connector.internalUrl, 'commerce');
        const body = { csr: toBase64(goodCsr) };
        const urls = [connector.externalUrl, replica.externalUrl, connector.externalUrl, replica.externalUrl];
        const responses = await Promise.all(
          urls.map((base) => postJson(`${base}/v1/applications/certificates?token=${token}`, body, { ca: pki.ca.certificatePem })),
        );
        assert.deepEqual(responses.map((response) => response.status).sort(), [201, 403, 403, 403]);
      } finally {
        await replica.stop();
      }
    });

    it('accepts a body without a JSON content type, as Kyma did', async () => {
      const { token } = await newToken(connector.internalUrl, 'commerce');
      const response = await sign(token, { csr: toBase64(goodCsr) }, { 'content-type': 'text/plain' });
      assert.equal(response.status, 201, response.body);
    });
  });
});
