import express, { type RequestHandler } from 'express';
import { InputError, NotFoundError } from '../../../shared/errors/errors.ts';

/** Service ids are UUIDs; anything outside this pattern cannot name a stored service. */
const SERVICE_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * Parse a JSON body of at most `limitBytes`, whatever the `Content-Type`, because Kyma clients do not
 * always send `application/json`. A larger body gets 413 and malformed JSON 400.
 */
export function parseJsonBody(limitBytes: number): RequestHandler[] {
  const parse = express.json({ limit: limitBytes, strict: true, type: () => true });
  const requireBody: RequestHandler = (req, _res, next) => {
    if (req.body === undefined) {
      throw new InputError('request body is empty, expected a JSON object');
    }
    next();
  };
  return [parse, requireBody];
}

/** Answer 404 for service ids that cannot exist, before they reach a KV key. */
export function readServiceId(raw: unknown, application: string): string {
  const id = String(raw);
  if (!SERVICE_ID_PATTERN.test(id)) {
    throw new NotFoundError(`service '${id.slice(0, 100)}' of application '${application}' not found`);
  }
  return id;
}
