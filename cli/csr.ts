import forge from 'node-forge';
import { parseDistinguishedName } from '../shared/http/forwarded-client-cert.ts';
import { generateRsaKeyPair, toForgeAttributes } from '../shared/pki/certificates.ts';

/** Make an RSA-2048 key and a SHA-256-signed CSR for the subject the connector advertises (`O=…,OU=…,CN=<app>`). */
export async function createCsr(subject: string): Promise<{ privateKeyPem: string; csrPem: string }> {
  const keys = await generateRsaKeyPair(2048);
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = forge.pki.publicKeyFromPem(keys.publicKeyPem);
  csr.setSubject(toForgeAttributes(parseDistinguishedName(subject)));
  csr.sign(forge.pki.privateKeyFromPem(keys.privateKeyPem), forge.md.sha256.create());
  return { privateKeyPem: keys.privateKeyPem, csrPem: forge.pki.certificationRequestToPem(csr) };
}

/** Decode a base64 field of the connector's response into PEM text. */
export function decodePemField(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '') {
    throw new Error(`the connector's response is missing ${field}`);
  }
  return Buffer.from(value, 'base64').toString('utf8');
}
