/** Names of Ferry's NATS resources. The README lists them with their purpose. */

/** Stream of every accepted event, on subjects `ferry.events.<app>.<encoded type>`. */
export const EVENTS_STREAM = 'FERRY_EVENTS';
export const EVENTS_SUBJECT_PREFIX = 'ferry.events';

/** Stream of events that could not be delivered, on `ferry.deadletter.<subscription>`. */
export const DEADLETTER_STREAM = 'FERRY_DEADLETTER';
export const DEADLETTER_SUBJECT_PREFIX = 'ferry.deadletter';

export const KV_BUCKETS = Object.freeze({
  /** Applications by name. */
  applications: 'ferry-applications',
  /** Registered services by `<app>.<id>`, with credentials encrypted. */
  services: 'ferry-services',
  /** One-time pairing tokens by SHA-256 of the token, expiring with the bucket TTL. */
  tokens: 'ferry-tokens',
  /** Revoked certificates by SHA-256 fingerprint of the DER. */
  revocations: 'ferry-revocations',
  /** Subscriptions by name. */
  subscriptions: 'ferry-subscriptions',
} as const);

/** Object store of API specs and event catalogs. */
export const SPECS_OBJECT_STORE = 'ferry-specs';
