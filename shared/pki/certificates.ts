import { createPrivateKey, generateKeyPair, randomBytes, sign } from 'node:crypto';
import { promisify } from 'node:util';
import forge from 'node-forge';

const generateKeyPairAsync = promisify(generateKeyPair);

/** Subject attributes by short name (`CN`, `O`, `OU`, `L`, `ST`, `C`). */
export type SubjectAttributes = Readonly<Record<string, string>>;

export type KeyPairPem = { privateKeyPem: string; publicKeyPem: string };

export type CertificateAuthority = { certificatePem: string; privateKeyPem: string };

/** Clock skew allowance: issued certificates start this long before the moment of signing. */
export const NOT_BEFORE_BACKDATE_MS = 60_000;

/** Generate an RSA key pair with OpenSSL in the thread pool, which is much faster than forge's pure JS. */
export async function generateRsaKeyPair(bits = 2048): Promise<KeyPairPem> {
  const { privateKey, publicKey } = await generateKeyPairAsync('rsa', {
    modulusLength: bits,
    publicExponent: 0x10001,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return { privateKeyPem: privateKey, publicKeyPem: publicKey };
}

/** A random positive serial number of `bytes` bytes, as hex. The top bit is cleared so DER keeps it positive. */
export function randomSerialNumber(bytes = 16): string {
  const serial = randomBytes(bytes);
  serial[0] = (serial[0]! & 0x7f) | 0x01;
  return serial.toString('hex');
}

export function toForgeAttributes(subject: SubjectAttributes): forge.pki.CertificateField[] {
  return Object.entries(subject).map(([shortName, value]) => ({ shortName, value }));
}

/**
 * Sign `certificate` with SHA-256 and the CA key. The signature is made by `node:crypto` (OpenSSL),
 * because forge's pure-JS RSA blocks the event loop for tens of milliseconds per signature.
 */
export function signCertificate(certificate: forge.pki.Certificate, caPrivateKeyPem: string): void {
  const algorithm = forge.pki.oids.sha256WithRSAEncryption!;
  certificate.siginfo.algorithmOid = algorithm;
  certificate.signatureOid = algorithm;

  // `getTBSCertificate` exists in node-forge but is missing from its type definitions.
  const pkiWithTbs = forge.pki as typeof forge.pki & { getTBSCertificate(certificate: forge.pki.Certificate): forge.asn1.Asn1 };
  const tbs = pkiWithTbs.getTBSCertificate(certificate);
  const tbsDer = Buffer.from(forge.asn1.toDer(tbs).getBytes(), 'binary');
  const signature = sign('sha256', tbsDer, createPrivateKey(caPrivateKeyPem));

  certificate.tbsCertificate = tbs;
  certificate.signature = signature.toString('binary');
}

export type IssueOptions = {
  subject: SubjectAttributes;
  publicKeyPem: string;
  ca: CertificateAuthority | undefined;
  validityMs: number;
  extensions: object[];
  /** Clock for tests. */
  now?: Date;
};

/** Build and sign a certificate. Without a CA it is self-signed, which needs the subject's own private key as `ca`. */
export function issueCertificate(options: IssueOptions & { selfSignedKeyPem?: string }): string {
  const now = options.now ?? new Date();
  const certificate = forge.pki.createCertificate();
  certificate.publicKey = forge.pki.publicKeyFromPem(options.publicKeyPem);
  certificate.serialNumber = randomSerialNumber();
  certificate.validity.notBefore = new Date(now.getTime() - NOT_BEFORE_BACKDATE_MS);
  certificate.validity.notAfter = new Date(now.getTime() + options.validityMs);
  certificate.setSubject(toForgeAttributes(options.subject));

  let signingKeyPem: string;
  if (options.ca) {
    certificate.setIssuer(forge.pki.certificateFromPem(options.ca.certificatePem).subject.attributes);
    signingKeyPem = options.ca.privateKeyPem;
  } else if (options.selfSignedKeyPem) {
    certificate.setIssuer(toForgeAttributes(options.subject));
    signingKeyPem = options.selfSignedKeyPem;
  } else {
    throw new Error('issueCertificate needs a CA or the key for a self-signed certificate');
  }

  certificate.setExtensions(options.extensions);
  signCertificate(certificate, signingKeyPem);
  return forge.pki.certificateToPem(certificate);
}

export const DAY_MS = 24 * 60 * 60 * 1000;

/** Create a self-signed CA certificate and key. */
export async function createCertificateAuthority(commonName: string, validityMs = 10 * 365 * DAY_MS): Promise<CertificateAuthority> {
  const keys = await generateRsaKeyPair(2048);
  const subject = { CN: commonName, O: 'Ferry' };
  const certificatePem = issueCertificate({
    subject,
    publicKeyPem: keys.publicKeyPem,
    ca: undefined,
    selfSignedKeyPem: keys.privateKeyPem,
    validityMs,
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
      { name: 'subjectKeyIdentifier' },
    ],
  });
  return { certificatePem, privateKeyPem: keys.privateKeyPem };
}

/** Extensions of a client certificate: digitalSignature and keyEncipherment, clientAuth, key identifiers. */
export function clientCertificateExtensions(ca: CertificateAuthority): object[] {
  const caCertificate = forge.pki.certificateFromPem(ca.certificatePem);
  return [
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', clientAuth: true },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCertificate.generateSubjectKeyIdentifier().getBytes() },
  ];
}

/** Issue a TLS server certificate for the given DNS names and IP addresses. */
export async function issueServerCertificate(
  ca: CertificateAuthority,
  names: { dns: readonly string[]; ip: readonly string[] },
  validityMs = 825 * DAY_MS,
): Promise<KeyPairPem & { certificatePem: string }> {
  const keys = await generateRsaKeyPair(2048);
  const caCertificate = forge.pki.certificateFromPem(ca.certificatePem);
  const certificatePem = issueCertificate({
    subject: { CN: names.dns[0] ?? names.ip[0] ?? 'localhost', O: 'Ferry' },
    publicKeyPem: keys.publicKeyPem,
    ca,
    validityMs,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [...names.dns.map((value) => ({ type: 2, value })), ...names.ip.map((ip) => ({ type: 7, ip }))],
      },
      { name: 'subjectKeyIdentifier' },
      { name: 'authorityKeyIdentifier', keyIdentifier: caCertificate.generateSubjectKeyIdentifier().getBytes() },
    ],
  });
  return { ...keys, certificatePem };
}

/** Issue a client certificate with the given subject for an existing public key. */
export function issueClientCertificate(
  ca: CertificateAuthority,
  subject: SubjectAttributes,
  publicKeyPem: string,
  validityMs: number,
  now?: Date,
): string {
  return issueCertificate({ subject, publicKeyPem, ca, validityMs, extensions: clientCertificateExtensions(ca), ...(now ? { now } : {}) });
}
