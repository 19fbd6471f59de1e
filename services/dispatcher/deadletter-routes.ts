import { Ajv } from 'ajv';
import { Router } from 'express';
import type { Logger } from 'pino';
import { requireRoleForMethod, type AdminTokenVerifier } from '../../shared/auth/admin-auth.ts';
import { InputError, UnavailableError } from '../../shared/errors/errors.ts';
import { formatAjvError } from '../../shared/validation/format-ajv-error.ts';
import { describeFailure } from './consumer-worker.ts';
import type { DeadLetter, DeadLetterStore } from './deadletter-store.ts';
import { deliverEvent } from './deliver-event.ts';
import type { DeliveryMetrics } from './delivery-metrics.ts';
import { DeliveryVerdict, classifyStatus } from './retry-policy.ts';
import type { SinkClient } from './sink-client.ts';
import { createJsonBody } from './subscription-routes.ts';
import { DNS_LABEL_PATTERN } from './subscription-schema.ts';
import type { SubscriptionStore } from './subscription-store.ts';

/** Maximum number of ids in one redrive request. */
export const MAX_REDRIVE_IDS = 1000;

export type DeadLetterRouteDependencies = {
  verify: AdminTokenVerifier;
  deadLetters: DeadLetterStore;
  store: SubscriptionStore;
  sink: SinkClient;
  metrics: DeliveryMetrics;
  log: Logger;
  listLimit: number;
  bodyLimitBytes: number;
};

type RedriveInput = { subscription: string; ids?: string[] };

const REDRIVE_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['subscription'],
  properties: {
    subscription: { type: 'string', pattern: DNS_LABEL_PATTERN },
    ids: { type: 'array', maxItems: MAX_REDRIVE_IDS, items: { type: 'string', minLength: 1, maxLength: 1024 } },
  },
} as const;

const NAME = new RegExp(DNS_LABEL_PATTERN);

function toView(letter: DeadLetter): Record<string, unknown> {
  return {
    sequence: letter.sequence,
    id: letter.event?.id,
    type: letter.event?.type,
    source: letter.event?.source,
    subscription: letter.subscription,
    attempts: letter.attempts,
    lastStatus: letter.lastStatus,
    lastError: letter.lastError,
    deadLetteredAt: letter.deadLetteredAt,
    eventSubject: letter.eventSubject,
    eventSequence: letter.eventSequence,
  };
}

function readLimit(raw: unknown, max: number): number {
  if (raw === undefined) {
    return max;
  }
  if (typeof raw !== 'string' || !/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > max) {
    throw new InputError(`\`limit\` must be a whole number between 1 and ${max}, got ${JSON.stringify(raw)}`);
  }
  return Number(raw);
}

/** Routes `GET /v1/deadletters?subscription=` and `POST /v1/deadletters/redrive`. */
export function createDeadLetterRoutes(deps: DeadLetterRouteDependencies): Router {
  const router = Router();
  const validateRedrive = new Ajv({ strict: true }).compile<RedriveInput>(REDRIVE_SCHEMA);
  router.use('/v1/deadletters', requireRoleForMethod(deps.verify), ...createJsonBody(deps.bodyLimitBytes));

  router.get('/v1/deadletters', async (req, res) => {
    const subscription = req.query.subscription;
    if (typeof subscription !== 'string' || !NAME.test(subscription)) {
      throw new InputError(`query parameter \`subscription\` must be a subscription name, got ${JSON.stringify(subscription ?? '')}`);
    }
    const letters = await deps.deadLetters.list(subscription, readLimit(req.query.limit, deps.listLimit));
    res.json({ deadLetters: letters.map(toView) });
  });

  router.post('/v1/deadletters/redrive', async (req, res) => {
    const body: unknown = req.body;
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new InputError('request body must be a JSON object');
    }
    if (!validateRedrive(body)) {
      throw new InputError(formatAjvError(validateRedrive.errors![0]!, 'request body', body));
    }
    const { subscription } = await deps.store.get(body.subscription);
    const wanted = body.ids === undefined ? undefined : new Set(body.ids);
    const letters = (await deps.deadLetters.list(subscription.name, deps.listLimit)).filter(
      (letter) => wanted === undefined || (letter.event !== undefined && wanted.has(letter.event.id)),
    );

    // NOTE: redrive makes one attempt per dead letter inside this request, one after another, so a
    // large backlog or a slow sink makes the request as long as the sum of their timeouts.
    const redriven: string[] = [];
    const failed: { id: string | undefined; sequence: number; status?: number; error: string }[] = [];
    for (const letter of letters) {
      if (letter.event === undefined) {
        failed.push({ id: undefined, sequence: letter.sequence, error: 'stored event is not a valid CloudEvent' });
        continue;
      }
      const result = await deliverEvent(deps.sink, subscription, letter.event);
      if (classifyStatus(result.status) !== DeliveryVerdict.Delivered) {
        const failure = describeFailure(result);
        failed.push({ id: letter.event.id, sequence: letter.sequence, ...(failure.status === undefined ? {} : { status: failure.status }), error: failure.message });
        continue;
      }
      try {
        await deps.deadLetters.remove(letter.sequence);
      } catch (error) {
        throw new UnavailableError('dead letter was delivered but cannot be removed, retry the redrive', { cause: error });
      }
      deps.metrics.recordDelivered(subscription.name, new Date(letter.deadLetteredAt));
      redriven.push(letter.event.id);
    }

    deps.log.info({ subscription: subscription.name, redriven: redriven.length, failed: failed.length }, 'dead letters redriven');
    res.json({ redriven, failed, missing: wanted === undefined ? [] : [...wanted].filter((id) => !redriven.includes(id) && !failed.some((f) => f.id === id)) });
  });

  return router;
}
