import { createPublicKey, type KeyObject } from 'node:crypto';
import forge from 'node-forge';
import { InputError } from '../../../shared/errors/errors.ts';
import { findSubjectMismatch, type SubjectAttributeName, type SubjectField } from './certificate-subject.ts';
import { DerError, DerTag, parseDer, type DerNode } from './der.ts';

/** Largest DER certificate request accepted. A CSR for an 8192-bit key with extensions is about 2.5 KiB. */
export const MAX_CSR_DER_BYTES = 16 * 1024;
/** Smallest RSA modulus accepted, in bits. */
export const MIN_RSA_KEY_BITS = 2048;
/** Largest RSA modulus accepted, in bits. Larger keys only make forge's pure-JS signature check slower. */
export const MAX_RSA_KEY_BITS = 8192;
/** The only RSA public exponent accepted (F4). */
export const REQUIRED_RSA_EXPONENT = 65537n;

/**
 * Signature algorithms accepted on a CSR. SHA-1 stays because node-forge signs with it by default and
 * paired clients still do; the issued certificate is always signed with SHA-256.
 */
const ACCEPTED_SIGNATURE_ALGORITHMS: ReadonlySet<string> = new Set(
  ['sha1WithRSAEncryption', 'sha256WithRSAEncryption', 'sha384WithRSAEncryption', 'sha512WithRSAEncryption'].map(
    (name) => forge.pki.oids[name]!,
  ),
);

/** A CSR whose structure, key, signature and subject have been checked. */
export type ValidatedCsr = {
  /** The requested public key as SPKI PEM. */
  publicKeyPem: string;
  keyBits: number;
  /** Name of the CSR's signature algorithm, e.g. `sha1WithRSAEncryption`. */
  signatureAlgorithm: string;
};

/** Base64 of a PEM block, as Kyma's clients send it. Whitespace, such as line breaks, is ignored. */
const BASE64_PATTERN = /^[A-Za-z0-9+/]*={0,2}$/;
/** Both labels are accepted: `NEW CERTIFICATE REQUEST` is what older tools (Netscape, MS) wrote. */
const PEM_CSR_PATTERN = /-----BEGIN ((?:NEW )?CERTIFICATE REQUEST)-----([A-Za-z0-9+/=\s]*)-----END \1-----/;
const PEM_ANY_LABEL_PATTERN = /-----BEGIN ([A-Z0-9 ]{1,40})-----/;

/** Read the `csr` field of a request body. */
export function readCsrField(body: unknown): string {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new InputError('request body must be a JSON object with a `csr` field');
  }
  const csr = (body as Record<string, unknown>).csr;
  if (csr === undefined || csr === null || csr === '') {
    throw new InputError('`csr` is required: base64 of a PEM certificate request');
  }
  if (typeof csr !== 'string') {
    throw new InputError(`\`csr\` must be a string holding base64 of a PEM certificate request, got ${typeof csr}`);
  }
  return csr;
}

/** Decode `csr` (base64 of PEM text) into the DER of the certificate request. */
export function decodeCsrPem(csr: string): Buffer {
  const compact = csr.replace(/\s+/g, '');
  if (compact.length % 4 !== 0 || !BASE64_PATTERN.test(compact)) {
    throw new InputError('`csr` is not valid base64');
  }

  const text = Buffer.from(compact, 'base64').toString('latin1');
  const match = PEM_CSR_PATTERN.exec(text);
  if (!match) {
    const label = PEM_ANY_LABEL_PATTERN.exec(text)?.[1];
    throw new InputError(
      label === undefined
        ? '`csr` is not a PEM certificate request: expected base64 of text with -----BEGIN CERTIFICATE REQUEST-----'
        : `\`csr\` is a PEM '${label}', expected a 'CERTIFICATE REQUEST'`,
    );
  }

  const der = Buffer.from(match[2]!.replace(/\s+/g, ''), 'base64');
  if (der.length === 0) {
    throw new InputError('`csr` holds an empty PEM certificate request');
  }
  if (der.length > MAX_CSR_DER_BYTES) {
    throw new InputError(`\`csr\` holds a certificate request of ${der.length} bytes, the limit is ${MAX_CSR_DER_BYTES}`);
  }
  return der;
}

function isShape(node: DerNode | undefined, tag: number): node is DerNode {
  return node !== undefined && node.tag === tag;
}

/**
 * Check the PKCS#10 outline (RFC 2986 §4) with the cheap DER reader and return the
 * SubjectPublicKeyInfo. Nothing of the input reaches forge before this passed.
 */
export function readSubjectPublicKeyInfo(der: Buffer): Buffer {
  let root: DerNode;
  try {
    root = parseDer(der);
  } catch (error) {
    if (error instanceof DerError) {
      throw new InputError(`\`csr\` is not valid DER: ${error.message}`, { cause: error });
    }
    throw error;
  }

  const [info, algorithm, signature] = root.children;
  const [version, subject, publicKeyInfo] = info?.children ?? [];
  const wellFormed =
    isShape(root, DerTag.Sequence) &&
    root.children.length === 3 &&
    isShape(info, DerTag.Sequence) &&
    isShape(algorithm, DerTag.Sequence) &&
    isShape(signature, DerTag.BitString) &&
    isShape(version, DerTag.Integer) &&
    isShape(subject, DerTag.Sequence) &&
    isShape(publicKeyInfo, DerTag.Sequence) &&
    info.children.length === 4 &&
    isShape(info.children[3], DerTag.ContextZero);
  if (!wellFormed) {
    throw new InputError('`csr` is not a PKCS#10 certificate request: the DER does not have its structure');
  }
  return der.subarray(publicKeyInfo.start, publicKeyInfo.end);
}

/** Check that the key is RSA (rsaEncryption), 2048 to 8192 bits, with exponent 65537. */
export function assertAcceptableKey(subjectPublicKeyInfo: Buffer): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: subjectPublicKeyInfo, format: 'der', type: 'spki' });
  } catch (error) {
    throw new InputError('CSR public key cannot be read', { cause: error });
  }

  if (key.asymmetricKeyType !== 'rsa') {
    throw new InputError(`CSR key must be RSA, got ${key.asymmetricKeyType ?? 'an unknown type'}`);
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_RSA_KEY_BITS) {
    throw new InputError(`CSR key has ${bits} bits, at least ${MIN_RSA_KEY_BITS} are required`);
  }
  if (bits > MAX_RSA_KEY_BITS) {
    throw new InputError(`CSR key has ${bits} bits, at most ${MAX_RSA_KEY_BITS} are accepted`);
  }
  const exponent = key.asymmetricKeyDetails?.publicExponent;
  if (exponent !== REQUIRED_RSA_EXPONENT) {
    throw new InputError(`CSR key has public exponent ${String(exponent)}, it must be ${REQUIRED_RSA_EXPONENT}`);
  }
  return key;
}

function parseWithForge(der: Buffer): forge.pki.CertificateSigningRequest {
  const pem = forge.pem.encode({ type: 'CERTIFICATE REQUEST', body: der.toString('binary') });
  try {
    return forge.pki.certificationRequestFromPem(pem, false, true);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new InputError(`\`csr\` is not a valid PKCS#10 certificate request: ${reason}`, { cause: error });
  }
}

function assertValidSignature(csr: forge.pki.CertificateSigningRequest): string {
  const oid = csr.signatureOid ?? '';
  const name = forge.pki.oids[oid] ?? oid;
  if (!ACCEPTED_SIGNATURE_ALGORITHMS.has(oid)) {
    throw new InputError(`CSR is signed with ${name}, expected sha256WithRSAEncryption (or SHA-1, SHA-384, SHA-512 with RSA)`);
  }

  let valid: boolean;
  try {
    valid = csr.verify();
  } catch (error) {
    throw new InputError('CSR signature is invalid', { cause: error });
  }
  if (!valid) {
    throw new InputError('CSR signature is invalid: it does not match the public key and the request');
  }
  return name;
}

/** Decode a subject value by its ASN.1 string type. forge leaves the raw bytes as a binary string. */
function decodeSubjectValue(attribute: { value?: unknown; valueTagClass?: unknown }): string {
  const raw = typeof attribute.value === 'string' ? attribute.value : '';
  switch (attribute.valueTagClass) {
    case forge.asn1.Type.UTF8:
      return Buffer.from(raw, 'binary').toString('utf8');
    case forge.asn1.Type.BMPSTRING:
      // UTF-16BE. An odd length is malformed; returning it raw makes the comparison fail.
      return raw.length % 2 === 0 ? Buffer.from(raw, 'binary').swap16().toString('utf16le') : raw;
    default:
      return raw;
  }
}

function readSubjectFields(csr: forge.pki.CertificateSigningRequest): SubjectField[] {
  const attributes = csr.subject.attributes as { shortName?: string; value?: unknown; valueTagClass?: unknown }[];
  return attributes.map((attribute) => ({ shortName: attribute.shortName, value: decodeSubjectValue(attribute) }));
}

/**
 * Validate a `csr` field: base64 of a PEM PKCS#10 request, well-formed DER, an acceptable RSA key, a
 * valid signature and exactly the expected subject. Throws `InputError` naming the first problem.
 */
export function validateCsr(csrField: string, expectedSubject: Record<SubjectAttributeName, string>): ValidatedCsr {
  const der = decodeCsrPem(csrField);
  const key = assertAcceptableKey(readSubjectPublicKeyInfo(der));

  const csr = parseWithForge(der);
  const signatureAlgorithm = assertValidSignature(csr);

  const mismatch = findSubjectMismatch(readSubjectFields(csr), expectedSubject);
  if (mismatch !== undefined) {
    throw new InputError(mismatch);
  }

  return {
    publicKeyPem: key.export({ type: 'spki', format: 'pem' }).toString(),
    keyBits: key.asymmetricKeyDetails?.modulusLength ?? 0,
    signatureAlgorithm,
  };
}
