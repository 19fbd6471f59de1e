import type { ApiCredentials, ServiceDocumentation, ServiceRecord, RequestParameters } from '../../../shared/model/service-record.ts';

/** Placeholder that replaces every credential secret in responses. */
export const MASK = '********';

/** Item of `GET /{app}/v1/metadata/services`. */
export type ServiceSummary = {
  id: string;
  provider: string;
  name: string;
  description: string;
  identifier?: string;
  labels: Record<string, string>;
};

/** Credentials as responses show them: secrets masked, the generated key never included. */
export type MaskedCredentials = {
  oauth?: { url: string; clientId: string; clientSecret: string; requestParameters?: RequestParameters; csrfInfo?: { tokenEndpointURL: string } };
  basic?: { username: string; password: string; csrfInfo?: { tokenEndpointURL: string } };
  certificateGen?: { commonName: string; certificate: string; csrfInfo?: { tokenEndpointURL: string } };
};

/** Full service as `GET /{app}/v1/metadata/services/{id}` returns it. */
export type ServiceDetails = ServiceSummary & {
  shortDescription?: string;
  api?: {
    targetUrl: string;
    credentials?: MaskedCredentials;
    spec?: unknown;
    specificationUrl?: string;
    apiType?: string;
    requestParameters?: RequestParameters;
  };
  events?: { spec?: unknown };
  documentation?: ServiceDocumentation;
};

export function toServiceSummary(record: ServiceRecord): ServiceSummary {
  return {
    id: record.id,
    provider: record.provider,
    name: record.name,
    description: record.description,
    ...(record.identifier === undefined ? {} : { identifier: record.identifier }),
    labels: record.labels,
  };
}

/** Replace the secrets of `credentials` with `MASK` and leave out the generated private key. */
export function maskCredentials(credentials: ApiCredentials): MaskedCredentials {
  const { oauth, basic, certificateGen } = credentials;
  if (oauth) {
    return { oauth: { ...oauth, clientId: MASK, clientSecret: MASK } };
  }
  if (basic) {
    return { basic: { ...basic, username: MASK, password: MASK } };
  }
  if (certificateGen) {
    const { commonName, certificate, csrfInfo } = certificateGen;
    return { certificateGen: { commonName, certificate, ...(csrfInfo ? { csrfInfo } : {}) } };
  }
  return {};
}

/** Build the response body of one service from its record, decrypted credentials and loaded specs. */
export function toServiceDetails(
  record: ServiceRecord,
  parts: { credentials: ApiCredentials | undefined; apiSpec?: unknown; eventsSpec?: unknown },
): ServiceDetails {
  const details: ServiceDetails = { ...toServiceSummary(record) };
  if (record.shortDescription !== undefined) {
    details.shortDescription = record.shortDescription;
  }

  if (record.api) {
    const { targetUrl, apiType, specificationUrl, requestParameters } = record.api;
    details.api = {
      targetUrl,
      ...(parts.credentials ? { credentials: maskCredentials(parts.credentials) } : {}),
      ...(parts.apiSpec === undefined ? {} : { spec: parts.apiSpec }),
      ...(specificationUrl === undefined ? {} : { specificationUrl }),
      ...(apiType === undefined ? {} : { apiType }),
      ...(requestParameters === undefined ? {} : { requestParameters }),
    };
  }
  if (record.events) {
    details.events = parts.eventsSpec === undefined ? {} : { spec: parts.eventsSpec };
  }
  if (record.documentation) {
    details.documentation = record.documentation;
  }
  return details;
}
