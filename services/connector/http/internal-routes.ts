import express, { Router } from 'express';
import { AdminRole, requireRole, type AdminTokenVerifier } from '../../../shared/auth/admin-auth.ts';
import { CONNECTOR_PATHS } from '../domain/pairing-urls.ts';
import type { Pairing } from '../pairing.ts';

/** Largest JSON body of the admin revocation route. */
export const REVOCATION_BODY_LIMIT_BYTES = 4 * 1024;

/** Admin routes of the internal HTTP port. Each needs a bearer JWT with the `admin` role. */
export function createInternalRouter(pairing: Pairing, verifyAdminToken: AdminTokenVerifier): Router {
  const router = Router();
  const admin = requireRole(verifyAdminToken, AdminRole.Admin);

  router.post(CONNECTOR_PATHS.tokens, admin, async (req, res) => {
    res.status(201).json(await pairing.createToken(req.header('application')));
  });

  router.post(CONNECTOR_PATHS.revocations, admin, express.json({ limit: REVOCATION_BODY_LIMIT_BYTES, strict: false, type: () => true }), async (req, res) => {
    await pairing.revokeByHash(req.body);
    res.status(201).end();
  });

  return router;
}
