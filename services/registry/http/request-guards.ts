import type { IncomingMessage } from 'node:http';
import express, { type RequestHandler } from 'express';
import { InputError, NotFoundError } from '../../../shared/errors/errors.ts';
import { MAX_JSON_DEPTH, exceedsJsonDepth } from '../domain/json-depth.ts';

/** Pattern of ids that may name a stored service. The registry makes UUIDs, which match it. */
const SERVICE_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

/** Raw body length of each parsed request, recorded by the parser's `verify` hook. */
const bodyLengths = new WeakMap<IncomingMessage, number>();

/**
 * Parse a JSON body of at most `limitBytes`, whatever the `Content-Type`, so a client that sends
 * another type still works. A larger body gets 413, and malformed or too deeply nested JSON gets 400.
 */
export function parseJsonBody(limitBytes: number): RequestHandler[] {
  const parse = express.json({
    limit: limitBytes,
    strict: true,
    type: () => true,
    verify: (req, _res, buffer) => {
      bodyLengths.set(req, buffer.length);
    },
  });
  const requireBody: RequestHandler = (req, _res, next) => {
    // body-parser turns an empty body into `{}`, which would pass as an object.
    if (req.body === undefined || !bodyLengths.get(req)) {
      throw new InputError('request body is empty, expected a JSON object');
    }
    if (exceedsJsonDepth(req.body)) {
      throw new InputError(`request body nests objects or arrays deeper than ${MAX_JSON_DEPTH} levels`);
    }
    next();
  };
  return [parse, requireBody];
}

/** Read `{id}` from the path. Ids that cannot exist get 404 before they reach a KV key. */
export function readServiceId(raw: unknown, application: string): string {
  const id = String(raw);
  if (!SERVICE_ID_PATTERN.test(id)) {
    throw new NotFoundError(`service '${id.slice(0, 100)}' of application '${application}' not found`);
  }
  return id;
}
