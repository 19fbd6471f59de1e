import { Router } from 'express';
import { requireApplicationIdentity } from '../../../shared/http/require-identity.ts';
import type { IdentityDirectory, IdentityOptions } from '../../../shared/http/client-identity.ts';
import { listSubscribedEvents, type SubscriptionSummary } from '../domain/events-info.ts';

/** Source of the route's subscriptions: a KV-watch cache of the subscriptions bucket. */
export type SubscriptionSource = { values(): Iterable<SubscriptionSummary> };

/** `GET /{app}/v1/events/subscribed` (mTLS, CN = app): `{"eventsInfo":[{name, version}]}`. Not a hot path, so express serves it. */
export function createSubscribedRouter(identityOptions: IdentityOptions, directory: IdentityDirectory, subscriptions: SubscriptionSource): Router {
  const router = Router();
  router.get('/:app/v1/events/subscribed', requireApplicationIdentity(identityOptions, directory), (req, res) => {
    res.json({ eventsInfo: listSubscribedEvents(subscriptions.values(), req.params.app as string) });
  });
  return router;
}
