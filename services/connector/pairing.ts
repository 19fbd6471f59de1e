import type { KV } from '@nats-io/kv';
import type { Logger } from 'pino';
import { ForbiddenError, InputError, NotFoundError, UnavailableError } from '../../shared/errors/errors.ts';
import type { ClientIdentity } from '../../shared/http/client-identity.ts';
import { applicationRevocationKey, type WatchedIdentityDirectory } from '../../shared/nats/identity-directory.ts';
import type { CertificateBundle } from './adapters/certificate-issuer.ts';
import type { CsrSigner } from './adapters/csr-signer.ts';
import type { RevocationStore } from './adapters/revocation-store.ts';
import type { FoundToken, TokenStore } from './adapters/token-store.ts';
import type { ConnectorConfig } from './config.ts';
import { createApplicationSubject, formatSubject } from './domain/certificate-subject.ts';
import { readCsrField } from './domain/csr.ts';
import { createApplicationUrls, createCsrUrl, createTokenUrl } from './domain/pairing-urls.ts';

/** Application names are DNS-1123 labels, as the registry enforces. */
const APPLICATION_NAME_PATTERN = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const FINGERPRINT_PATTERN = /^[0-9a-fA-F]{64}$/;

/** How long a revocation request waits for this replica's KV watch to report the new record. */
export const REVOCATION_VISIBLE_TIMEOUT_MS = 1000;
const REVOCATION_POLL_MS = 10;

/** Requirements for a paired system's CSR, sent as `certificate` in both info responses. */
export type CertificateRequirements = { subject: string; extensions: string; 'key-algorithm': 'rsa2048' };

/** Response body of `GET /v1/applications/signingRequests/info`. */
export type SigningRequestInfo = {
  csrUrl: string;
  api: { eventsInfoUrl: string; eventsUrl: string; metadataUrl: string; infoUrl: string; certificatesUrl: string };
  certificate: CertificateRequirements;
};

/** Response body of `GET /v1/applications/management/info`. */
export type ManagementInfo = {
  clientIdentity: { application: string };
  urls: { eventsInfoUrl: string; eventsUrl: string; metadataUrl: string; renewCertUrl: string; revokeCertUrl: string };
  certificate: CertificateRequirements;
};

export type PairingDependencies = {
  config: Readonly<ConnectorConfig>;
  tokens: TokenStore;
  revocations: RevocationStore;
  signer: CsrSigner;
  directory: WatchedIdentityDirectory;
  /** The applications bucket, read when the watched cache does not know an application yet. */
  applications: KV;
  log: Logger;
};

/** The connector's use cases: tokens, signing, renewal, revocation and the info answers. */
export type Pairing = {
  createToken(application: string | undefined): Promise<{ url: string; token: string }>;
  describeSigningRequest(token: unknown): Promise<SigningRequestInfo>;
  signCertificate(token: unknown, body: unknown): Promise<CertificateBundle>;
  describeManagement(identity: ClientIdentity): ManagementInfo;
  renewCertificate(identity: ClientIdentity, body: unknown): Promise<CertificateBundle>;
  revokeOwnCertificate(identity: ClientIdentity): Promise<void>;
  revokeByHash(body: unknown): Promise<void>;
};

export function createPairing(deps: PairingDependencies): Pairing {
  const { config, tokens, revocations, signer, directory, log } = deps;
  const publicUrls = config.common.publicUrls;

  const requirementsOf = (application: string): CertificateRequirements => ({
    subject: formatSubject(createApplicationSubject(config.subject, application)),
    extensions: '',
    'key-algorithm': 'rsa2048',
  });

  /** Check the watched cache, then the bucket, because the cache may lag behind a registry that just created the application. */
  async function applicationExists(application: string): Promise<boolean> {
    if (directory.applicationExists(application)) {
      return true;
    }
    try {
      return (await deps.applications.get(application))?.operation === 'PUT';
    } catch (error) {
      throw new UnavailableError('application store is unavailable, try again', { cause: error });
    }
  }

  /** Check that the token's application exists and was not deleted (and maybe re-created) after the token was made. */
  async function assertTokenApplicationValid(found: FoundToken): Promise<string> {
    const { application, createdAt } = found.record;
    if (!(await applicationExists(application))) {
      throw new ForbiddenError(`token is for application '${application}', which no longer exists`);
    }
    const cutOff = directory.revocations.get(applicationRevocationKey(application));
    if (cutOff !== undefined && Date.parse(createdAt) <= Date.parse(cutOff.revokedAt)) {
      throw new ForbiddenError(`token is for application '${application}', which was deleted after the token was made`);
    }
    return application;
  }

  async function issueBundle(application: string, body: unknown, kind: 'signing' | 'renewal'): Promise<CertificateBundle> {
    const signed = await signer.sign(readCsrField(body), createApplicationSubject(config.subject, application));
    log.info(
      { app: application, kind, serial: signed.serialNumber, fingerprint: signed.fingerprint, csrSignature: signed.csrSignatureAlgorithm },
      'client certificate issued',
    );
    return signed.bundle;
  }

  async function waitUntilRevocationVisible(key: string): Promise<void> {
    const deadline = performance.now() + REVOCATION_VISIBLE_TIMEOUT_MS;
    while (!directory.revocations.has(key)) {
      if (performance.now() >= deadline) {
        log.warn({ fingerprint: key }, 'revocation is stored but not yet seen by this replica');
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, REVOCATION_POLL_MS));
    }
  }

  return {
    async createToken(application) {
      if (application === undefined || application === '') {
        throw new InputError('the Application header is required');
      }
      if (!APPLICATION_NAME_PATTERN.test(application)) {
        throw new InputError(`the Application header must be an application name (a DNS-1123 label), got '${application.slice(0, 80)}'`);
      }
      if (!(await applicationExists(application))) {
        throw new NotFoundError(`application '${application}' does not exist`);
      }

      const token = await tokens.issue(application);
      log.info({ app: application }, 'pairing token created');
      return { url: createTokenUrl(publicUrls, token), token };
    },

    async describeSigningRequest(token) {
      const found = await tokens.find(token);
      const application = await assertTokenApplicationValid(found);
      await tokens.consume(found);
      const next = await tokens.issue(application);

      const urls = createApplicationUrls(publicUrls, application);
      return {
        csrUrl: createCsrUrl(publicUrls, next),
        api: {
          eventsInfoUrl: urls.eventsInfoUrl,
          eventsUrl: urls.eventsUrl,
          metadataUrl: urls.metadataUrl,
          infoUrl: urls.infoUrl,
          certificatesUrl: urls.certificatesUrl,
        },
        certificate: requirementsOf(application),
      };
    },

    async signCertificate(token, body) {
      const found = await tokens.find(token);
      const application = await assertTokenApplicationValid(found);
      const bundle = await issueBundle(application, body, 'signing');
      // Consumed only now, after everything succeeded. A concurrent request that consumed it first wins.
      await tokens.consume(found);
      return bundle;
    },

    describeManagement(identity) {
      const application = identity.commonName;
      const urls = createApplicationUrls(publicUrls, application);
      return {
        clientIdentity: { application },
        urls: {
          eventsInfoUrl: urls.eventsInfoUrl,
          eventsUrl: urls.eventsUrl,
          metadataUrl: urls.metadataUrl,
          renewCertUrl: urls.renewCertUrl,
          revokeCertUrl: urls.revokeCertUrl,
        },
        certificate: requirementsOf(application),
      };
    },

    renewCertificate(identity, body) {
      return issueBundle(identity.commonName, body, 'renewal');
    },

    async revokeOwnCertificate(identity) {
      await revocations.revokeCertificate(identity.fingerprint, { application: identity.commonName, reason: 'revoked by its holder' });
      log.info({ app: identity.commonName, fingerprint: identity.fingerprint }, 'client certificate revoked by its holder');
      await waitUntilRevocationVisible(identity.fingerprint);
    },

    async revokeByHash(body) {
      const hash = body !== null && typeof body === 'object' ? (body as Record<string, unknown>).hash : undefined;
      if (typeof hash !== 'string' || !FINGERPRINT_PATTERN.test(hash)) {
        throw new InputError('`hash` must be the SHA-256 of the certificate DER as 64 hex digits');
      }
      const fingerprint = hash.toLowerCase();
      await revocations.revokeCertificate(fingerprint, { reason: 'revoked by an administrator' });
      log.info({ fingerprint }, 'client certificate revoked by an administrator');
      await waitUntilRevocationVisible(fingerprint);
    },
  };
}
