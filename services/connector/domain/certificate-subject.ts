import type { SubjectAttributes } from '../../../shared/pki/certificates.ts';
import type { CertificateSubjectConfig } from '../config.ts';

/**
 * Short names of the subject attributes in the order they are advertised and issued:
 * `O=…,OU=…,L=…,ST=…,C=…,CN=<application>`, as Kyma's connector advertised them.
 */
export const SUBJECT_ATTRIBUTE_ORDER = ['O', 'OU', 'L', 'ST', 'C', 'CN'] as const;

export type SubjectAttributeName = (typeof SUBJECT_ATTRIBUTE_ORDER)[number];

/** One attribute of a parsed subject, as node-forge reports it. */
export type SubjectField = { shortName?: string; value?: unknown };

/** The subject that an application's certificates carry: the configured fields plus CN = application. */
export function createApplicationSubject(config: CertificateSubjectConfig, application: string): Record<SubjectAttributeName, string> {
  return {
    O: config.organization,
    OU: config.organizationalUnit,
    L: config.locality,
    ST: config.province,
    C: config.country,
    CN: application,
  };
}

/** Format a subject as clients expect it in `certificate.subject`: `O=Ferry,OU=…,C=DE,CN=commerce`. */
export function formatSubject(subject: SubjectAttributes): string {
  return SUBJECT_ATTRIBUTE_ORDER.map((name) => `${name}=${subject[name] ?? ''}`).join(',');
}

/**
 * Compare a CSR's subject with the expected one. Returns the first problem as a message, or undefined
 * when every checked attribute appears exactly once with the expected value. Other attributes, such as
 * an e-mail address, are allowed and are not copied into the certificate.
 */
export function findSubjectMismatch(fields: readonly SubjectField[], expected: Record<SubjectAttributeName, string>): string | undefined {
  for (const name of [...SUBJECT_ATTRIBUTE_ORDER].reverse()) {
    const values = fields.filter((field) => field.shortName === name).map((field) => String(field.value));
    const wanted = expected[name];

    if (values.length === 0) {
      return `CSR subject has no ${name}, expected ${name}=${wanted}`;
    }
    if (values.length > 1) {
      return `CSR subject has ${values.length} ${name} attributes, expected one`;
    }
    if (values[0] !== wanted) {
      const what = name === 'CN' ? `CN must be the application '${wanted}'` : `${name} must be '${wanted}'`;
      return `CSR subject ${what}, got '${values[0]}'`;
    }
  }
  return undefined;
}
