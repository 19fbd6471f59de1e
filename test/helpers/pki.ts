import { X509Certificate } from 'node:crypto';
import {
  DAY_MS,
  createCertificateAuthority,
  generateRsaKeyPair,
  issueClientCertificate,
  issueServerCertificate,
  type CertificateAuthority,
} from '../../shared/pki/certificates.ts';
import { sha256Hex } from '../../shared/http/client-identity.ts';

export type TestClientCertificate = { certificatePem: string; privateKeyPem: string; fingerprint: string };

/** A throwaway PKI for tests: a CA, a server certificate for localhost and client certificates. */
export type TestPki = {
  ca: CertificateAuthority;
  server: { certificatePem: string; privateKeyPem: string };
  issueClient(commonName: string, options?: { validityMs?: number; now?: Date; ca?: CertificateAuthority }): Promise<TestClientCertificate>;
};

export function fingerprintOf(certificatePem: string): string {
  return sha256Hex(new X509Certificate(certificatePem).raw);
}

export async function createTestPki(): Promise<TestPki> {
  const ca = await createCertificateAuthority('Ferry Test CA');
  const server = await issueServerCertificate(ca, { dns: ['localhost'], ip: ['127.0.0.1'] });

  return {
    ca,
    server: { certificatePem: server.certificatePem, privateKeyPem: server.privateKeyPem },
    async issueClient(commonName, options = {}) {
      const keys = await generateRsaKeyPair(2048);
      const subject = { CN: commonName, O: 'Ferry Test', C: 'DE' };
      const certificatePem = issueClientCertificate(options.ca ?? ca, subject, keys.publicKeyPem, options.validityMs ?? DAY_MS, options.now);
      return { certificatePem, privateKeyPem: keys.privateKeyPem, fingerprint: fingerprintOf(certificatePem) };
    },
  };
}
