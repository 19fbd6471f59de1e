import express, { Router } from 'express';
import type { IdentityDirectory, IdentityOptions } from '../../../shared/http/client-identity.ts';
import { requireApplicationIdentity } from '../../../shared/http/require-identity.ts';
import { CONNECTOR_PATHS } from '../domain/pairing-urls.ts';
import type { Pairing } from '../pairing.ts';

/** Largest JSON body of the signing and renewal routes. A larger one gets 413. */
export const CSR_BODY_LIMIT_BYTES = 64 * 1024;

/**
 * Routes of the external HTTPS port. The token routes need no client certificate; the management
 * routes need one, and its CN names the application.
 */
export function createExternalRouter(pairing: Pairing, identity: IdentityOptions, directory: IdentityDirectory): Router {
  const router = Router();
  // Kyma's clients do not always send `Content-Type: application/json`, so every body is read as JSON.
  const json = express.json({ limit: CSR_BODY_LIMIT_BYTES, strict: false, type: () => true });
  const mtls = requireApplicationIdentity(identity, directory, () => undefined);

  router.get(CONNECTOR_PATHS.signingRequestInfo, async (req, res) => {
    res.json(await pairing.describeSigningRequest(req.query.token));
  });

  router.post(CONNECTOR_PATHS.certificates, json, async (req, res) => {
    res.status(201).json(await pairing.signCertificate(req.query.token, req.body));
  });

  router.get(CONNECTOR_PATHS.managementInfo, mtls, (req, res) => {
    res.json(pairing.describeManagement(req.identity!));
  });

  router.post(CONNECTOR_PATHS.renewals, mtls, json, async (req, res) => {
    res.status(201).json(await pairing.renewCertificate(req.identity!, req.body));
  });

  router.post(CONNECTOR_PATHS.revocations, mtls, async (req, res) => {
    await pairing.revokeOwnCertificate(req.identity!);
    res.status(201).end();
  });

  return router;
}
