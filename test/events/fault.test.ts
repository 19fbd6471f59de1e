import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import https from 'node:https';
import { after, before, describe, it } from 'node:test';
import { request } from '../helpers/http.ts';
import type { TestClientCertificate } from '../helpers/pki.ts';
import { binaryHeaders, createClientAgent, startHarness, waitUntil, type Harness } from './harness.ts';

/** Concurrent clients, each sending one distinct event after the other. */
const CLIENTS = 4;
/** Pause of a client after a 503, so the outage does not turn into a busy loop. */
const BACKOFF_AFTER_503_MS = 20;

type Outcome = { id: string; startedAt: number; status: number; retryAfter: string | undefined; error?: string };

function sendEvent(agent: https.Agent, url: string, id: string): Promise<Omit<Outcome, 'startedAt'>> {
  return new Promise((resolve) => {
    const outgoing = https.request(url, { method: 'POST', agent, headers: binaryHeaders({ 'ce-id': id }), timeout: 30_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve({ id, status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] }));
    });
    outgoing.on('timeout', () => outgoing.destroy(new Error('timed out')));
    outgoing.on('error', (error) => resolve({ id, status: 0, retryAfter: undefined, error: error.message }));
    outgoing.end(JSON.stringify({ id }));
  });
}

type OutageRun = { outcomes: Outcome[]; recoveredAt: number };

/** Send distinct events from `CLIENTS` clients, stop nats-server for `outageMs`, start it again and keep sending until after recovery. */
async function runOutage(h: Harness, client: TestClientCertificate, outageMs: number): Promise<OutageRun> {
  const agent = createClientAgent(h.pki, client, CLIENTS);
  const url = `${h.externalUrl}/commerce/events`;
  const outcomes: Outcome[] = [];
  let running = true;

  const sendLoop = async (): Promise<void> => {
    while (running) {
      const startedAt = Date.now();
      const outcome = { ...(await sendEvent(agent, url, randomUUID())), startedAt };
      outcomes.push(outcome);
      if (outcome.status !== 204) {
        await new Promise((resolve) => setTimeout(resolve, BACKOFF_AFTER_503_MS));
      }
    }
  };
  const loops = Array.from({ length: CLIENTS }, () => sendLoop());

  await new Promise((resolve) => setTimeout(resolve, 1500));
  await h.nats.pause();
  await new Promise((resolve) => setTimeout(resolve, outageMs));
  await h.nats.resume();
  await waitUntil(async () => (await request(`${h.internalUrl}/readyz`)).status === 200, 30_000);
  const recoveredAt = Date.now();
  await new Promise((resolve) => setTimeout(resolve, 1500));
  running = false;
  await Promise.all(loops);
  agent.destroy();
  return { outcomes, recoveredAt };
}

/** Check the contract: 204 or 503 with Retry-After, success after recovery, and every 204 event stored exactly once. */
async function assertOutageContract(h: Harness, { outcomes, recoveredAt }: OutageRun): Promise<void> {
  const unexpected = outcomes.filter((outcome) => outcome.status !== 204 && outcome.status !== 503);
  assert.deepEqual(unexpected, [], 'every request is answered 204 or 503');
  assert.ok(outcomes.filter((outcome) => outcome.status === 503).every((outcome) => outcome.retryAfter === '1'), '503 carries Retry-After');
  const afterRecovery = outcomes.filter((outcome) => outcome.startedAt >= recoveredAt);
  assert.ok(afterRecovery.length > 0);
  assert.deepEqual(afterRecovery.filter((outcome) => outcome.status !== 204), [], 'every request after the reconnect succeeds');

  const stored = new Map<string, number>();
  for (const message of await h.storedMessages()) {
    const id = String(message.event.attributes.id);
    stored.set(id, (stored.get(id) ?? 0) + 1);
  }
  const accepted = outcomes.filter((outcome) => outcome.status === 204);
  assert.deepEqual(accepted.filter((outcome) => stored.get(outcome.id) !== 1).map((outcome) => outcome.id), [], 'every 2xx event is stored exactly once');
  assert.deepEqual([...stored].filter(([, count]) => count > 1), [], 'no event is stored twice');
}

describe('events ingress during a NATS outage', () => {
  let h: Harness;
  let commerce: TestClientCertificate;

  before(async () => {
    h = await startHarness({ env: { FERRY_EVENTS_PUBLISH_TIMEOUT_MS: '500', FERRY_EVENTS_PUBLISH_DEADLINE_MS: '4000', FERRY_LOG_LEVEL: 'info' } });
    commerce = await h.addApplication('commerce');
  });

  after(async () => {
    await h.close();
  });

  it('survives an outage past the deadline', async () => {
    const run = await runOutage(h, commerce, 5000);

    await assertOutageContract(h, run);
    assert.ok(run.outcomes.some((outcome) => outcome.status === 503), 'the outage was answered with 503');
  });

  // Requests in flight when the server stops wait for the reconnect within their deadline, so here
  // the clients may see no 503 at all.
  it('retries in-flight events across a restart', async () => {
    const logsBefore = h.logs.lines.length;

    const run = await runOutage(h, commerce, 0);

    await assertOutageContract(h, run);
    const retried = new Set(h.logs.lines.slice(logsBefore).filter((line) => line.msg === 'retrying publish with the same message id').map((line) => line.eventId));
    const acceptedAfterRetry = run.outcomes.filter((outcome) => outcome.status === 204 && retried.has(outcome.id));
    assert.ok(acceptedAfterRetry.length > 0, 'a retried event was acknowledged after the restart');
  });
});
