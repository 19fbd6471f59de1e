import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { ErrorCode, InputError, UnavailableError } from '../../shared/errors/errors.ts';
import { DAY_MS } from '../../shared/pki/certificates.ts';
import { createInlineSigner, createWorkerSigner, type CsrSigner } from '../../services/connector/adapters/csr-signer.ts';
import { createTestPki, type TestPki } from '../helpers/pki.ts';
import { TEST_SUBJECT, forgeCsrPem, fromBase64, newKeys, toBase64 } from './harness.ts';

const subject = { ...TEST_SUBJECT, CN: 'commerce' };

describe('CSR signer', () => {
  let pki: TestPki;
  let csrs: string[];

  before(async () => {
    pki = await createTestPki();
    const keys = await Promise.all(Array.from({ length: 4 }, () => newKeys()));
    csrs = keys.map((pair) => toBase64(forgeCsrPem(pair, subject)));
  });

  const options = (): { ca: TestPki['ca'] & { chainPem: string }; validityMs: number; now: () => number } => ({
    ca: { ...pki.ca, chainPem: pki.ca.certificatePem },
    validityMs: 10 * DAY_MS,
    now: () => Date.parse('2030-01-01T00:01:00Z'),
  });

  async function assertSigns(signer: CsrSigner): Promise<void> {
    const signed = await Promise.all(csrs.map((csr) => signer.sign(csr, subject)));
    const serials = new Set(signed.map((result) => result.serialNumber));
    assert.equal(serials.size, csrs.length);
    for (const result of signed) {
      const certificate = new X509Certificate(fromBase64(result.bundle.clientCrt));
      assert.equal(certificate.validFrom, 'Jan  1 00:00:00 2030 GMT');
      assert.equal(certificate.validTo, 'Jan 11 00:01:00 2030 GMT');
      assert.equal(result.csrSignatureAlgorithm, 'sha1WithRSAEncryption');
    }

    await assert.rejects(signer.sign(toBase64('no pem here'), subject), (error: unknown) => {
      assert.ok(error instanceof InputError);
      assert.equal(error.code, ErrorCode.Input);
      assert.match(error.message, /not a PEM certificate request/);
      return true;
    });
  }

  /** Start `count` signatures, then see how many finished before the event loop's next turn. */
  async function countSignedBeforeNextTurn(signer: CsrSigner, count: number): Promise<number> {
    let done = 0;
    const all = Promise.all(Array.from({ length: count }, (_, i) => signer.sign(csrs[i % csrs.length]!, subject).then(() => done++)));
    const atNextTurn = await new Promise<number>((resolve) => setImmediate(() => resolve(done)));
    await all;
    return atNextTurn;
  }

  describe('in worker threads', () => {
    let signer: CsrSigner;
    before(async () => {
      signer = await createWorkerSigner({ ...options(), threads: 2, log: pino({ level: 'silent' }) });
    });
    after(() => signer?.close());

    it('signs concurrent CSRs', async () => {
      await assertSigns(signer);
    });

    it('keeps the event loop turning while it signs', async () => {
      assert.equal(await countSignedBeforeNextTurn(signer, 40), 0);
    });

    it('refuses work after close', async () => {
      const closing = await createWorkerSigner({ ...options(), threads: 1, log: pino({ level: 'silent' }) });
      await closing.close();
      await assert.rejects(closing.sign(csrs[0]!, subject), UnavailableError);
    });
  });

  describe('on the event loop', () => {
    it('gives the same answers as the workers', async () => {
      await assertSigns(createInlineSigner(options()));
    });

    it('holds the event loop until every signature is done', async () => {
      assert.equal(await countSignedBeforeNextTurn(createInlineSigner(options()), 5), 5);
    });
  });
});
