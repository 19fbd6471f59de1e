import { readFile } from 'node:fs/promises';
import { ConfigError } from '../../../shared/errors/errors.ts';
import { generateRsaKeyPair, issueClientCertificate, type CertificateAuthority } from '../../../shared/pki/certificates.ts';

/** Key size of generated client certificates, in bits. */
export const GENERATED_KEY_BITS = 2048;

export type GeneratedClientCertificate = { certificatePem: string; privateKeyPem: string };

/** Makes the client certificates of `certificateGen` credentials, signed by Ferry's CA. */
export class ClientCertificateIssuer {
  constructor(
    private readonly ca: CertificateAuthority,
    private readonly validityMs: number,
  ) {}

  /** Load the CA from its PEM files. Throws `ConfigError` naming the file that cannot be read. */
  static async load(caCertFile: string, caKeyFile: string, validityMs: number): Promise<ClientCertificateIssuer> {
    const read = async (file: string, variable: string): Promise<string> => {
      try {
        return await readFile(file, 'utf8');
      } catch (error) {
        throw new ConfigError(`cannot read ${file}: set ${variable} to the CA's PEM file`, { cause: error });
      }
    };
    const ca = { certificatePem: await read(caCertFile, 'FERRY_CA_CERT'), privateKeyPem: await read(caKeyFile, 'FERRY_CA_KEY') };
    return new ClientCertificateIssuer(ca, validityMs);
  }

  /** Generate an RSA-2048 key and a client certificate with subject `CN=<commonName>`. */
  async issue(commonName: string): Promise<GeneratedClientCertificate> {
    const keys = await generateRsaKeyPair(GENERATED_KEY_BITS);
    const certificatePem = issueClientCertificate(this.ca, { CN: commonName }, keys.publicKeyPem, this.validityMs);
    return { certificatePem, privateKeyPem: keys.privateKeyPem };
  }
}
