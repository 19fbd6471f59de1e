import { InputError } from '../../../shared/errors/errors.ts';
import { normalizeServiceName } from '../../../shared/model/service-record.ts';
import { CREDENTIAL_TYPES, type CredentialType, type CredentialsInput, type ServiceInput } from './service-input.ts';

/** Maximum length of an application name: a DNS-1123 label (RFC 1123 §2.1). */
export const MAX_APPLICATION_NAME_LENGTH = 63;

const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Label that every stored service carries, naming its application. */
export const CONNECTED_APP_LABEL = 'connected-app';

/** Throw `InputError` unless `name` is a DNS-1123 label: lower-case alphanumerics and `-`, at most 63 characters. */
export function assertApplicationName(name: string): void {
  if (name.length > MAX_APPLICATION_NAME_LENGTH || !DNS_1123_LABEL.test(name)) {
    throw new InputError(
      `name must be a DNS-1123 label (lower-case letters, digits and '-', starting and ending with a letter or digit, at most ${MAX_APPLICATION_NAME_LENGTH} characters), got '${name.slice(0, 100)}'`,
    );
  }
}

/** Return the single credential type in `credentials`, or undefined for `{}`. Throws `InputError` when more than one is set. */
export function selectCredentialType(credentials: CredentialsInput | undefined, field = 'api.credentials'): CredentialType | undefined {
  const present = CREDENTIAL_TYPES.filter((type) => credentials?.[type] !== undefined);
  if (present.length > 1) {
    throw new InputError(`${field} must contain at most one of ${CREDENTIAL_TYPES.join(', ')}, got ${present.join(', ')}`);
  }
  return present[0];
}

/**
 * Check the rules that span fields, after the schema passed: `api` or `events` is present, at most
 * one credential type, and a name that normalizes to a usable gateway path segment. Returns the
 * normalized name.
 */
export function assertServiceRules(input: ServiceInput): string {
  if (input.api === undefined && input.events === undefined) {
    throw new InputError('service must have api or events, got neither');
  }
  selectCredentialType(input.api?.credentials);
  if (input.api?.specificationCredentials?.oauth !== undefined && input.api.specificationCredentials.basic !== undefined) {
    throw new InputError('api.specificationCredentials must contain at most one of oauth, basic, got oauth, basic');
  }

  const normalizedName = normalizeServiceName(input.name);
  if (normalizedName === '') {
    throw new InputError(`name must contain at least one letter or digit, got '${input.name.slice(0, 100)}'`);
  }
  return normalizedName;
}

/** Labels as stored: the caller's labels plus `connected-app: <app>`, which always wins. */
export function toStoredLabels(application: string, labels: Record<string, string> | undefined): Record<string, string> {
  return { ...labels, [CONNECTED_APP_LABEL]: application };
}
