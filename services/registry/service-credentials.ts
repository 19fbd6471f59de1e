import type { ApiCredentials } from '../../shared/model/service-record.ts';
import type { ClientCertificateIssuer } from './adapters/client-certificate.ts';
import type { CredentialsInput } from './domain/service-input.ts';
import { MASK } from './domain/service-view.ts';

/** Keep the stored secret when a caller sends back the mask that a GET returned. */
function unmask(value: string, stored: string | undefined): string {
  return value === MASK && stored !== undefined ? stored : value;
}

/**
 * Turn the credentials of a request into the plain form that is encrypted at rest. A PUT that sends
 * back `********` keeps the stored secret, and `certificateGen` with an unchanged common name keeps
 * the generated key and certificate, so the target system need not trust a new certificate.
 */
export async function toApiCredentials(
  input: CredentialsInput | undefined,
  previous: ApiCredentials | undefined,
  issuer: ClientCertificateIssuer,
): Promise<ApiCredentials | undefined> {
  if (input?.oauth) {
    const { url, clientId, clientSecret, requestParameters, csrfInfo } = input.oauth;
    return {
      oauth: {
        url,
        clientId: unmask(clientId, previous?.oauth?.clientId),
        clientSecret: unmask(clientSecret, previous?.oauth?.clientSecret),
        ...(requestParameters ? { requestParameters } : {}),
        ...(csrfInfo ? { csrfInfo } : {}),
      },
    };
  }

  if (input?.basic) {
    const { username, password, csrfInfo } = input.basic;
    return {
      basic: {
        username: unmask(username, previous?.basic?.username),
        password: unmask(password, previous?.basic?.password),
        ...(csrfInfo ? { csrfInfo } : {}),
      },
    };
  }

  if (input?.certificateGen) {
    const { commonName, csrfInfo } = input.certificateGen;
    const kept = previous?.certificateGen?.commonName === commonName ? previous.certificateGen : undefined;
    const generated = kept ? { certificatePem: kept.certificate, privateKeyPem: kept.privateKey } : await issuer.issue(commonName);
    return {
      certificateGen: {
        commonName,
        certificate: generated.certificatePem,
        privateKey: generated.privateKeyPem,
        ...(csrfInfo ? { csrfInfo } : {}),
      },
    };
  }
  return undefined;
}

/** Return the configured credential type, so readers of the record can tell it without decrypting. */
export function credentialTypeOf(credentials: ApiCredentials): 'oauth' | 'basic' | 'certificateGen' {
  if (credentials.oauth) {
    return 'oauth';
  }
  return credentials.basic ? 'basic' : 'certificateGen';
}
