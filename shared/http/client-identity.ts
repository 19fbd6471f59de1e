import { X509Certificate, createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { ForbiddenError, UnauthenticatedError } from '../errors/errors.ts';
import { parseDistinguishedName, parseForwardedClientCert } from './forwarded-client-cert.ts';

export const FORWARDED_CLIENT_CERT_HEADER = 'x-forwarded-client-cert';

/** The authenticated external system behind a request. */
export type ClientIdentity = {
  /** Subject common name, which is the application name. */
  commonName: string;
  subject: Readonly<Record<string, string>>;
  /** SHA-256 of the certificate DER, lower-case hex. Revocation is keyed by it. */
  fingerprint: string;
  /** PEM of the certificate when the TLS socket or the forwarded header carried it. */
  certificatePem: string | undefined;
  /** Start of the certificate's validity, when the certificate itself was available. */
  notBefore: Date | undefined;
  source: 'tls' | 'forwarded';
};

/** Lookups that the identity check needs, usually backed by KV-watch caches. */
export type IdentityDirectory = {
  /** True when this certificate, or every certificate of its application issued before a cut-off, is revoked. */
  isRevoked(identity: ClientIdentity): boolean;
  applicationExists(name: string): boolean;
};

export type IdentityOptions = {
  /** Trust `X-Forwarded-Client-Cert` from a TLS-terminating proxy in place of the TLS socket. */
  trustForwardedClientCert: boolean;
  /** Ferry's CA. A forwarded certificate that carries its PEM must be issued by it. */
  caCertificatePem: string;
};

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Translate OpenSSL verification codes from the TLS socket into a message for the caller. */
function describeAuthorizationError(code: string): string {
  switch (code) {
    case 'CERT_HAS_EXPIRED':
      return 'client certificate has expired';
    case 'CERT_NOT_YET_VALID':
      return 'client certificate is not yet valid';
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'CERT_SIGNATURE_FAILURE':
      return "client certificate is not issued by Ferry's CA";
    default:
      return `client certificate was rejected (${code})`;
  }
}

/**
 * Identities already read from TLS sockets. Parsing the certificate costs more than the rest of an
 * event request, and a connection's peer certificate cannot change because `createExternalServer`
 * disables TLS renegotiation, so each connection is parsed once. Revocation is still checked on
 * every request.
 */
const socketIdentities = new WeakMap<object, ClientIdentity>();

function identityFromSocket(req: IncomingMessage): ClientIdentity {
  const socket = req.socket as Partial<TLSSocket>;
  const cached = socketIdentities.get(socket);
  if (cached !== undefined) {
    return cached;
  }
  if (typeof socket.getPeerCertificate !== 'function') {
    throw new UnauthenticatedError('a client certificate is required, and this listener is not TLS');
  }

  const peer = socket.getPeerCertificate(false);
  if (!peer || !peer.raw) {
    throw new UnauthenticatedError('a client certificate is required');
  }
  if (socket.authorized !== true) {
    const code = String(socket.authorizationError ?? 'UNKNOWN');
    throw new UnauthenticatedError(describeAuthorizationError(code));
  }

  const certificate = new X509Certificate(peer.raw);
  const subject = parseDistinguishedName(certificate.subject.split('\n').join(','));
  const identity: ClientIdentity = Object.freeze({
    commonName: subject.CN ?? '',
    subject,
    fingerprint: sha256Hex(peer.raw),
    certificatePem: certificate.toString(),
    notBefore: new Date(certificate.validFrom),
    source: 'tls',
  });
  socketIdentities.set(socket, identity);
  return identity;
}

function identityFromForwardedHeader(header: string, options: IdentityOptions): ClientIdentity {
  let elements;
  try {
    elements = parseForwardedClientCert(header);
  } catch (error) {
    throw new UnauthenticatedError('X-Forwarded-Client-Cert is malformed', { cause: error });
  }

  // The element added by the nearest proxy comes last.
  const element = elements.at(-1);
  if (!element) {
    throw new UnauthenticatedError('X-Forwarded-Client-Cert is empty');
  }

  let fingerprint = element.Hash?.toLowerCase();
  let subjectText = element.Subject;
  let certificatePem: string | undefined;
  let notBefore: Date | undefined;

  if (element.Cert !== undefined) {
    const certificate = parseForwardedCertificate(element.Cert);
    assertIssuedByCa(certificate, options.caCertificatePem);
    certificatePem = certificate.toString();
    notBefore = new Date(certificate.validFrom);
    fingerprint = sha256Hex(certificate.raw);
    subjectText ??= certificate.subject.split('\n').join(',');
  }

  if (fingerprint === undefined || !/^[0-9a-f]{64}$/.test(fingerprint)) {
    throw new UnauthenticatedError('X-Forwarded-Client-Cert must carry a SHA-256 Hash or the Cert');
  }
  if (subjectText === undefined) {
    throw new UnauthenticatedError('X-Forwarded-Client-Cert must carry the Subject or the Cert');
  }

  const subject = parseDistinguishedName(subjectText);
  return { commonName: subject.CN ?? '', subject, fingerprint, certificatePem, notBefore, source: 'forwarded' };
}

function parseForwardedCertificate(urlEncodedPem: string): X509Certificate {
  try {
    return new X509Certificate(decodeURIComponent(urlEncodedPem));
  } catch (error) {
    throw new UnauthenticatedError('X-Forwarded-Client-Cert carries a Cert that is not a PEM certificate', { cause: error });
  }
}

function assertIssuedByCa(certificate: X509Certificate, caPem: string): void {
  const ca = new X509Certificate(caPem);
  if (!certificate.checkIssued(ca) || !certificate.verify(ca.publicKey)) {
    throw new UnauthenticatedError("client certificate is not issued by Ferry's CA");
  }

  const now = Date.now();
  if (Date.parse(certificate.validTo) < now) {
    throw new UnauthenticatedError('client certificate has expired');
  }
  if (Date.parse(certificate.validFrom) > now) {
    throw new UnauthenticatedError('client certificate is not yet valid');
  }
}

/**
 * Read the caller's certificate identity from the TLS socket, or from `X-Forwarded-Client-Cert` when
 * the deployment trusts it. Throws `UnauthenticatedError` when there is no valid certificate.
 */
export function readClientIdentity(req: IncomingMessage, options: IdentityOptions): ClientIdentity {
  const header = req.headers[FORWARDED_CLIENT_CERT_HEADER];
  if (options.trustForwardedClientCert && typeof header === 'string') {
    return identityFromForwardedHeader(header, options);
  }
  return identityFromSocket(req);
}

/**
 * Authenticate an external system for `application`: a valid certificate chained to Ferry's CA (401
 * otherwise), not revoked, with CN equal to the application, which must exist (403 otherwise).
 */
export function authenticateApplication(
  req: IncomingMessage,
  application: string | undefined,
  options: IdentityOptions,
  directory: IdentityDirectory,
): ClientIdentity {
  const identity = readClientIdentity(req, options);

  if (directory.isRevoked(identity)) {
    throw new ForbiddenError('client certificate has been revoked');
  }
  const expected = application ?? identity.commonName;
  if (identity.commonName !== expected) {
    throw new ForbiddenError(`client certificate CN '${identity.commonName}' does not match application '${expected}'`);
  }
  if (!directory.applicationExists(expected)) {
    throw new ForbiddenError(`application '${expected}' does not exist`);
  }
  return identity;
}

/** Remove `X-Forwarded-Client-Cert` unless the deployment trusts it, so no route or upstream receives a forged one. */
export function stripUntrustedForwardedClientCert(req: IncomingMessage, trustForwardedClientCert: boolean): void {
  if (!trustForwardedClientCert) {
    delete req.headers[FORWARDED_CLIENT_CERT_HEADER];
  }
}
