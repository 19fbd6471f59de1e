import type { CommonConfig } from '../../../shared/config/common.ts';

/** Paths of the connector's external routes, as Kyma's Application Connector served them. */
export const CONNECTOR_PATHS = Object.freeze({
  signingRequestInfo: '/v1/applications/signingRequests/info',
  certificates: '/v1/applications/certificates',
  renewals: '/v1/applications/certificates/renewals',
  revocations: '/v1/applications/certificates/revocations',
  managementInfo: '/v1/applications/management/info',
  tokens: '/v1/applications/tokens',
} as const);

/** The URLs of an application's external API, handed to paired systems. */
export type ApplicationUrls = {
  eventsInfoUrl: string;
  eventsUrl: string;
  metadataUrl: string;
  infoUrl: string;
  certificatesUrl: string;
  renewCertUrl: string;
  revokeCertUrl: string;
};

/** Build the public URLs of `application` from the configured public base URLs, which carry no trailing `/`. */
export function createApplicationUrls(publicUrls: CommonConfig['publicUrls'], application: string): ApplicationUrls {
  const app = encodeURIComponent(application);
  return {
    eventsInfoUrl: `${publicUrls.events}/${app}/v1/events/subscribed`,
    eventsUrl: `${publicUrls.events}/${app}/events`,
    metadataUrl: `${publicUrls.registry}/${app}/v1/metadata/services`,
    infoUrl: `${publicUrls.connector}${CONNECTOR_PATHS.managementInfo}`,
    certificatesUrl: `${publicUrls.connector}${CONNECTOR_PATHS.certificates}`,
    renewCertUrl: `${publicUrls.connector}${CONNECTOR_PATHS.renewals}`,
    revokeCertUrl: `${publicUrls.connector}${CONNECTOR_PATHS.revocations}`,
  };
}

/** The URL a paired system GETs first: the signing request info, carrying a one-time token. */
export function createTokenUrl(publicUrls: CommonConfig['publicUrls'], token: string): string {
  return `${publicUrls.connector}${CONNECTOR_PATHS.signingRequestInfo}?token=${encodeURIComponent(token)}`;
}

/** The URL a paired system POSTs its CSR to, carrying a one-time token. */
export function createCsrUrl(publicUrls: CommonConfig['publicUrls'], token: string): string {
  return `${publicUrls.connector}${CONNECTOR_PATHS.certificates}?token=${encodeURIComponent(token)}`;
}
