import { availableParallelism } from 'node:os';
import { parseCommonConfig, type CommonConfig } from '../../shared/config/common.ts';
import { deepFreeze, readInteger, readString, type Env } from '../../shared/config/env.ts';
import { DAY_MS } from '../../shared/pki/certificates.ts';
import { ConfigError } from '../../shared/errors/errors.ts';

/** Validity of issued client certificates, in days, when `FERRY_CERT_VALIDITY_DAYS` is not set. */
export const DEFAULT_CERT_VALIDITY_DAYS = 92;
/** Upper limit of `FERRY_CERT_VALIDITY_DAYS`, ten years. */
export const MAX_CERT_VALIDITY_DAYS = 3650;

/**
 * Worker threads that check CSRs and build certificates when `FERRY_CONNECTOR_SIGNING_THREADS` is not
 * set: one core is left to the event loop, and at most 4 are used.
 */
export const DEFAULT_SIGNING_THREADS = Math.max(1, Math.min(4, availableParallelism() - 1));
export const MAX_SIGNING_THREADS = 32;

/** Subject attributes advertised to clients and required in their CSRs, when not configured. */
export const DEFAULT_CERT_SUBJECT = Object.freeze({
  organization: 'Ferry',
  organizationalUnit: 'Applications',
  locality: 'Berlin',
  province: 'Berlin',
  country: 'DE',
});

/** The fixed part of every client certificate's subject. CN is the application. */
export type CertificateSubjectConfig = {
  /** O, from `FERRY_CERT_SUBJECT_ORGANIZATION`. */
  organization: string;
  /** OU, from `FERRY_CERT_SUBJECT_ORGANIZATIONAL_UNIT`. */
  organizationalUnit: string;
  /** L, from `FERRY_CERT_SUBJECT_LOCALITY`. */
  locality: string;
  /** ST, from `FERRY_CERT_SUBJECT_PROVINCE`. */
  province: string;
  /** C, two letters (ISO 3166), from `FERRY_CERT_SUBJECT_COUNTRY`. */
  country: string;
};

export type ConnectorConfig = {
  common: Readonly<CommonConfig>;
  subject: CertificateSubjectConfig;
  /** Validity of issued client certificates in milliseconds, from `FERRY_CERT_VALIDITY_DAYS`. */
  certificateValidityMs: number;
  /** Worker threads for CSR checks and signing, from `FERRY_CONNECTOR_SIGNING_THREADS`; 0 signs on the event loop. */
  signingThreads: number;
};

/**
 * Subject values are issued as PrintableString (X.680 §41.4), and clients split the advertised subject
 * `O=…,OU=…,CN=…` on `,` and `=` as Kyma's clients do. So a value may hold letters, digits, space and
 * `' ( ) - . / : ?`, which is PrintableString without the `+ , =` that RFC 4514 would have to escape.
 */
const SUBJECT_VALUE_PATTERN = /^[A-Za-z0-9 '()\-./:?]{1,64}$/;

function readSubjectValue(env: Env, name: string, fallback: string): string {
  const value = readString(env, name, fallback);
  if (!SUBJECT_VALUE_PATTERN.test(value)) {
    throw new ConfigError(`${name} must be 1 to 64 letters, digits, spaces or ' ( ) - . / : ?, got '${value}'`);
  }
  return value;
}

function readCertificateSubject(env: Env): CertificateSubjectConfig {
  const country = readString(env, 'FERRY_CERT_SUBJECT_COUNTRY', DEFAULT_CERT_SUBJECT.country);
  if (!/^[A-Z]{2}$/.test(country)) {
    throw new ConfigError(`FERRY_CERT_SUBJECT_COUNTRY must be two upper-case letters (ISO 3166), got '${country}'`);
  }
  return {
    organization: readSubjectValue(env, 'FERRY_CERT_SUBJECT_ORGANIZATION', DEFAULT_CERT_SUBJECT.organization),
    organizationalUnit: readSubjectValue(env, 'FERRY_CERT_SUBJECT_ORGANIZATIONAL_UNIT', DEFAULT_CERT_SUBJECT.organizationalUnit),
    locality: readSubjectValue(env, 'FERRY_CERT_SUBJECT_LOCALITY', DEFAULT_CERT_SUBJECT.locality),
    province: readSubjectValue(env, 'FERRY_CERT_SUBJECT_PROVINCE', DEFAULT_CERT_SUBJECT.province),
    country,
  };
}

/** Parse the connector service's settings. Throws `ConfigError` naming the first invalid variable. */
export function parseConnectorConfig(env: Env): Readonly<ConnectorConfig> {
  const validityDays = readInteger(env, 'FERRY_CERT_VALIDITY_DAYS', DEFAULT_CERT_VALIDITY_DAYS, { min: 1, max: MAX_CERT_VALIDITY_DAYS });
  return deepFreeze({
    common: parseCommonConfig(env),
    subject: readCertificateSubject(env),
    certificateValidityMs: validityDays * DAY_MS,
    signingThreads: readInteger(env, 'FERRY_CONNECTOR_SIGNING_THREADS', DEFAULT_SIGNING_THREADS, { min: 0, max: MAX_SIGNING_THREADS }),
  });
}
