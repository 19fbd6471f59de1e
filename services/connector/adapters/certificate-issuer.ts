import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ConfigError } from '../../../shared/errors/errors.ts';
import { sha256Hex } from '../../../shared/http/client-identity.ts';
import { issueClientCertificate, type CertificateAuthority, type SubjectAttributes } from '../../../shared/pki/certificates.ts';

/** Ferry's CA as loaded from `FERRY_CA_CERT` and `FERRY_CA_KEY`. */
export type LoadedCertificateAuthority = CertificateAuthority & {
  /** The whole CA file: the issuing CA first, then any intermediates up to the root. */
  chainPem: string;
};

/** The answer to a signing or renewal request. Each field is base64 of PEM text, as Kyma's clients expect. */
export type CertificateBundle = {
  /** The client certificate followed by the CA chain. */
  crt: string;
  clientCrt: string;
  caCrt: string;
};

export type IssuedCertificate = {
  bundle: CertificateBundle;
  certificatePem: string;
  /** SHA-256 of the DER, lower-case hex, the key of revocation. */
  fingerprint: string;
  serialNumber: string;
  notAfter: string;
};

export type CertificateIssuer = {
  /** Issue a client certificate for `publicKeyPem` with exactly `subject`. */
  issue(subject: SubjectAttributes, publicKeyPem: string): IssuedCertificate;
};

const PEM_CERTIFICATE_PATTERN = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** Read the CA certificate chain and key, and check that the key belongs to the first certificate. */
export async function loadCertificateAuthority(certificateFile: string, keyFile: string): Promise<LoadedCertificateAuthority> {
  let chainText: string;
  let privateKeyPem: string;
  try {
    [chainText, privateKeyPem] = await Promise.all([readFile(certificateFile, 'utf8'), readFile(keyFile, 'utf8')]);
  } catch (error) {
    throw new ConfigError(`cannot read the CA from FERRY_CA_CERT (${certificateFile}) and FERRY_CA_KEY (${keyFile})`, { cause: error });
  }

  const certificates = chainText.match(PEM_CERTIFICATE_PATTERN) ?? [];
  const certificatePem = certificates[0];
  if (certificatePem === undefined) {
    throw new ConfigError(`FERRY_CA_CERT (${certificateFile}) holds no PEM certificate`);
  }

  let matches: boolean;
  try {
    const certificateKey = new X509Certificate(certificatePem).publicKey.export({ type: 'spki', format: 'der' });
    const privateKeyPublicPart = createPublicKey(createPrivateKey(privateKeyPem)).export({ type: 'spki', format: 'der' });
    matches = certificateKey.equals(privateKeyPublicPart);
  } catch (error) {
    throw new ConfigError(`cannot parse the CA certificate ${certificateFile} or key ${keyFile}`, { cause: error });
  }
  if (!matches) {
    throw new ConfigError(`FERRY_CA_KEY (${keyFile}) is not the key of the certificate in FERRY_CA_CERT (${certificateFile})`);
  }

  return { certificatePem: `${certificatePem}\n`, privateKeyPem, chainPem: `${certificates.join('\n')}\n` };
}

function toBase64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

/**
 * Create the issuer of client certificates: SHA-256 signature by the CA, a random positive 128-bit
 * serial, notBefore one minute in the past, and the client extensions of `shared/pki/certificates.ts`.
 */
export function createCertificateIssuer(options: {
  ca: LoadedCertificateAuthority;
  /** Validity in milliseconds from now. */
  validityMs: number;
  /** Clock in epoch milliseconds, for tests. */
  now?: () => number;
}): CertificateIssuer {
  const { ca, validityMs } = options;
  const now = options.now ?? Date.now;

  return {
    issue(subject, publicKeyPem) {
      const certificatePem = issueClientCertificate(ca, subject, publicKeyPem, validityMs, new Date(now()));
      const certificate = new X509Certificate(certificatePem);
      return {
        bundle: {
          crt: toBase64(`${certificatePem.trimEnd()}\n${ca.chainPem}`),
          clientCrt: toBase64(certificatePem),
          caCrt: toBase64(ca.chainPem),
        },
        certificatePem,
        fingerprint: sha256Hex(certificate.raw),
        serialNumber: certificate.serialNumber,
        notAfter: certificate.validTo,
      };
    },
  };
}
