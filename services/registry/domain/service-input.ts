import type { RequestParameters, ServiceDocumentation } from '../../../shared/model/service-record.ts';

/** Body of `POST` and `PUT /{app}/v1/metadata/services[/{id}]`, the Kyma Application Registry service model. */
export type ServiceInput = {
  provider: string;
  name: string;
  description: string;
  shortDescription?: string;
  identifier?: string;
  labels?: Record<string, string>;
  api?: ApiInput;
  events?: EventsInput;
  documentation?: DocumentationInput;
};

export type ApiInput = {
  targetUrl: string;
  credentials?: CredentialsInput;
  /** Inline spec: a JSON object, stored as given. */
  spec?: Record<string, unknown>;
  specificationUrl?: string;
  apiType?: string;
  requestParameters?: RequestParameters;
  specificationCredentials?: SpecificationCredentialsInput;
  specificationRequestParameters?: RequestParameters;
};

export type CsrfInfoInput = { tokenEndpointURL: string };

/** API credentials as sent: at most one of the three types. `{}` means no authentication. */
export type CredentialsInput = {
  oauth?: { url: string; clientId: string; clientSecret: string; requestParameters?: RequestParameters; csrfInfo?: CsrfInfoInput };
  basic?: { username: string; password: string; csrfInfo?: CsrfInfoInput };
  certificateGen?: { commonName: string; csrfInfo?: CsrfInfoInput };
};

/** Credentials that the registry uses only to fetch the spec from `specificationUrl`. */
export type SpecificationCredentialsInput = {
  oauth?: { url: string; clientId: string; clientSecret: string };
  basic?: { username: string; password: string };
};

export type EventsInput = { spec?: Record<string, unknown> };

export type DocumentationInput = ServiceDocumentation;

/** Names of the credential types, in the order messages list them. */
export const CREDENTIAL_TYPES = ['oauth', 'basic', 'certificateGen'] as const;
export type CredentialType = (typeof CREDENTIAL_TYPES)[number];
