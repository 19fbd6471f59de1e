/**
 * End-to-end demo on real input. A commerce system pairs with a one-time token, registers the real
 * Commerce Webservices API and event catalog, and sends `order.created.v1` twice (legacy, then
 * binary CloudEvent). The `order-enricher` Function fetches each order through the gateway and
 * publishes `order.enriched.v1`, which a local sink receives. Exits non-zero on any failure.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AdminClient } from '../cli/admin-client.ts';
import { pair, register, send } from '../cli/commands/system.ts';
import { parseCliConfig } from '../cli/config.ts';
import { createOutput } from '../cli/output.ts';
import { runMain } from '../shared/service/main.ts';
import { startDemoSink, type ReceivedEvent } from './demo/demo-sink.ts';
import { MOCK_CLIENT, MOCK_ORDERS, startMockCommerce } from './demo/mock-commerce.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'specs');
const APPLICATION = 'commerce';
/** Normalized to `sap-commerce-cloud-commerce-webservices`, the gateway path that order-enricher calls. */
const SERVICE_NAME = 'SAP Commerce Cloud - Commerce Webservices';
const BASE_SITE = 'electronics';
const SINK_SUBSCRIPTION = 'demo-enriched-sink';
/** How long the demo waits for both enriched events. */
const DELIVERY_TIMEOUT_MS = 60_000;

let step = 0;
function say(message: string): void {
  step++;
  process.stdout.write(`\n[${step}] ${message}\n`);
}
function detail(message: string): void {
  process.stdout.write(`    ${message}\n`);
}

async function isRunning(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) })).ok;
  } catch {
    return false;
  }
}

/** Start `npm start` as a child and wait until it reports every service ready. */
async function startSystem(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts', 'start.ts')], {
    cwd: ROOT,
    env: process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));

  const deadline = Date.now() + 90_000;
  while (!output.includes('all services ready')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`the system did not start:\n${output.split('\n').slice(-40).join('\n')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return child;
}

async function waitForEnriched(events: ReceivedEvent[], count: number): Promise<ReceivedEvent[]> {
  const deadline = Date.now() + DELIVERY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const enriched = events.filter((event) => event.type === 'order.enriched.v1');
    if (enriched.length >= count) {
      return enriched;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`the sink received ${events.length} events within ${DELIVERY_TIMEOUT_MS / 1000} s, expected ${count} order.enriched.v1`);
}

runMain('demo', async () => {
  const config = parseCliConfig(process.env);
  const urls = config.common.internalUrls;
  const output = createOutput(false);
  const cleanups: (() => Promise<void>)[] = [];

  try {
    say('Ferry');
    if (await isRunning(urls.connector)) {
      detail('already running, using it (its gateway must allow loopback targets: FERRY_EGRESS_ALLOW_LOOPBACK=true)');
    } else {
      detail('not running, starting it with npm start');
      const system = await startSystem();
      cleanups.push(async () => {
        system.kill('SIGINT');
        await new Promise((resolve) => system.once('exit', resolve));
      });
      detail('all six services are ready');
    }

    say('Mock commerce system with OAuth client credentials');
    const commerce = await startMockCommerce();
    cleanups.push(() => commerce.close());
    detail(`OCC API ${commerce.baseUrl}/rest/v2, token endpoint ${commerce.tokenUrl}`);

    say(`Application '${APPLICATION}' and a one-time token`);
    const admin = await AdminClient.create(config, undefined);
    const applications = `${urls.registry}/v1/applications`;
    const existing = (await admin.call('GET', applications)) as { name: string }[];
    if (existing.some((application) => application.name === APPLICATION)) {
      await admin.call('DELETE', `${applications}/${APPLICATION}`);
      detail('deleted the application left by an earlier run, which revoked its certificates');
    }
    await admin.call('POST', applications, { name: APPLICATION, description: 'SAP Commerce Cloud (mock)' });
    const { url: pairingUrl } = (await admin.call('POST', `${urls.connector}/v1/applications/tokens`, undefined, { application: APPLICATION })) as { url: string };
    detail(`pairing URL ${pairingUrl.replace(/token=.*/, 'token=…')}`);

    say('Pairing as the external system would');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ferry-demo-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await pair([pairingUrl, '--dir', dir, '--ca', config.common.caCertFile], output);

    say('Registering the Commerce Webservices API and the event catalog');
    await register(
      [
        '--dir', dir,
        '--name', SERVICE_NAME,
        '--provider', 'SAP',
        '--spec', path.join(FIXTURES, 'commerce-occ-swagger2.yaml'),
        '--events', path.join(FIXTURES, 'commerce-events-asyncapi1.yaml'),
        '--target', commerce.baseUrl,
        '--oauth', commerce.tokenUrl,
        '--client-id', MOCK_CLIENT.clientId,
        '--client-secret', MOCK_CLIENT.clientSecret,
      ],
      output,
    );
    const catalog = (await admin.call('GET', `${applications}/${APPLICATION}/events`)) as { type: string; version: string }[];
    detail(`event catalog: ${catalog.length} types, including ${catalog.some((entry) => entry.type === 'order.created' && entry.version === 'v1') ? 'order.created v1' : 'NOT order.created v1'}`);

    say('Subscriptions');
    const sink = await startDemoSink();
    cleanups.push(() => sink.close());
    const subscriptions = `${urls.dispatcher}/v1/subscriptions`;
    await admin.call('DELETE', `${subscriptions}/${SINK_SUBSCRIPTION}`).catch(() => undefined);
    await admin.call('POST', subscriptions, { name: SINK_SUBSCRIPTION, sink: sink.url, types: ['order.enriched.v1'], typeMatching: 'exact' });
    detail(`${SINK_SUBSCRIPTION}: order.enriched.v1 from any source → ${sink.url}`);
    const all = (await admin.call('GET', subscriptions)) as { name: string; types: string[]; source?: string }[];
    for (const subscription of all) {
      detail(`${subscription.name}: ${subscription.types.join(', ')}${subscription.source ? ` from ${subscription.source}` : ''}`);
    }

    say('Sending order.created.v1 twice: legacy format, then binary CloudEvent');
    const [legacyOrder, cloudEventOrder] = Object.keys(MOCK_ORDERS) as [string, string];
    await send(['--dir', dir, '--type', 'order.created.v1', '--legacy', '--data', JSON.stringify({ orderCode: legacyOrder, baseSiteUid: BASE_SITE })], output);
    await send(['--dir', dir, '--type', 'order.created.v1', '--data', JSON.stringify({ orderCode: cloudEventOrder, baseSiteUid: BASE_SITE })], output);

    say('Waiting for order.enriched.v1 at the sink');
    const enriched = await waitForEnriched(sink.events, 2);
    for (const code of [legacyOrder, cloudEventOrder]) {
      const event = enriched.find((candidate) => JSON.stringify(candidate.data).includes(code));
      const expected = MOCK_ORDERS[code]!.totalPrice.value;
      const total = JSON.stringify(event?.data ?? null);
      if (!event || !total.includes(String(expected))) {
        throw new Error(`no order.enriched.v1 for order ${code} with total ${expected}; the sink received ${JSON.stringify(enriched)}`);
      }
      detail(`order ${code}: ${total}`);
    }
    detail(`the mock served ${commerce.calls.tokens} OAuth token(s) and ${commerce.calls.orders} order read(s) through the gateway`);

    process.stdout.write('\ndemo passed\n');
  } finally {
    for (const cleanup of cleanups.reverse()) {
      await cleanup().catch(() => undefined);
    }
  }
});

