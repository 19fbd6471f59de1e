import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestClientCertificate } from '../helpers/pki.ts';
import { RegistryHarness, expectError, serviceBody, waitFor } from './harness.ts';

describe('registry during a NATS outage', () => {
  let harness: RegistryHarness;
  let client: TestClientCertificate;

  before(async () => {
    harness = await RegistryHarness.start();
    client = await harness.createApplication('outage');
  });

  after(async () => {
    await harness.stop();
  });

  it('returns 503, then recovers', async () => {
    await harness.nats.pause();
    await waitFor(() => !harness.service.runtime.nats.state.connected, 10_000);

    const internal = await harness.internal('GET', '/v1/applications');
    assert.equal(internal.status, 503, internal.body);
    assert.equal(internal.headers['retry-after'], '2');
    await expectError(harness.internal('GET', '/v1/applications/outage'), 503, /NATS is unavailable/);
    await expectError(harness.external('POST', '/outage/v1/metadata/services', client, serviceBody()), 503, /NATS is unavailable/);

    await harness.nats.resume();
    await waitFor(async () => (await harness.external('GET', '/outage/v1/metadata/services', client)).status === 200, 20_000);
    const created = await harness.external('POST', '/outage/v1/metadata/services', client, serviceBody());
    assert.equal(created.status, 200, created.body);
  });
});
