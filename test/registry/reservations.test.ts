import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { jetstream } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import {
  RESERVATION_GRACE_MS,
  identifierReservationKey,
  nameReservationKey,
  openNameReservations,
  type NameReservations,
} from '../../services/registry/adapters/name-reservations.ts';
import { TestNatsServer } from '../helpers/nats-server.ts';

describe('name reservations', () => {
  let nats: TestNatsServer;
  let nc: NatsConnection;
  let now = Date.parse('2026-01-01T00:00:00Z');
  let reservations: NameReservations;
  const exists = (): Promise<boolean> => Promise.resolve(true);
  const missing = (): Promise<boolean> => Promise.resolve(false);

  before(async () => {
    nats = await TestNatsServer.start();
    nc = await connect({ servers: nats.url });
    reservations = await openNameReservations(jetstream(nc), 1, () => now);
  });

  after(async () => {
    await nc.close();
    await nats.stop();
  });

  it('gives a key to one service', async () => {
    const key = nameReservationKey('shop', 'orders');
    assert.equal(await reservations.reserve(key, 'service-a', missing), undefined);
    assert.equal(await reservations.reserve(key, 'service-a', missing), undefined);
    assert.equal(await reservations.reserve(key, 'service-b', missing), 'service-a');
  });

  it('lets one of racing claims win', async () => {
    const key = nameReservationKey('shop', 'racy');
    const holders = await Promise.all(['a', 'b', 'c', 'd'].map((id) => reservations.reserve(key, id, missing)));
    assert.equal(holders.filter((holder) => holder === undefined).length, 1);
  });

  it('takes over stale claims only', async () => {
    const key = nameReservationKey('shop', 'stale');
    assert.equal(await reservations.reserve(key, 'crashed', missing), undefined);

    now += RESERVATION_GRACE_MS - 1000;
    assert.equal(await reservations.reserve(key, 'newcomer', missing), 'crashed');
    now += 2000;
    assert.equal(await reservations.reserve(key, 'newcomer', exists), 'crashed');
    assert.equal(await reservations.reserve(key, 'newcomer', missing), undefined);
    assert.equal(await reservations.reserve(key, 'third', missing), 'newcomer');
  });

  it('releases only for the owner', async () => {
    const key = identifierReservationKey('shop', 'ID with spaces/and*wildcards>');
    assert.match(key, /^shop\.identifier\.[A-Za-z0-9_-]+$/);
    assert.equal(await reservations.reserve(key, 'owner', missing), undefined);

    await reservations.release(key, 'someone-else');
    assert.equal(await reservations.reserve(key, 'other', missing), 'owner');
    await reservations.release(key, 'owner');
    assert.equal(await reservations.reserve(key, 'other', missing), undefined);
  });
});
