import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import type { EgressPolicyConfig } from '../../shared/config/common.ts';
import { checkAddress, checkUrlEgress, classifyAddress, createEgressLookup } from '../../shared/egress/egress-policy.ts';

const denyAll: EgressPolicyConfig = { allowLoopback: false, allowPrivate: false, allowLinkLocal: false, allowedHosts: [] };

describe('egress policy', () => {
  const classes: [string, string][] = [
    ['127.0.0.1', 'loopback'],
    ['127.10.0.1', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['0.0.0.0', 'unspecified'],
    ['169.254.169.254', 'metadata'],
    ['fd00:ec2::254', 'metadata'],
    ['169.254.10.1', 'link-local'],
    ['fe80::1', 'link-local'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.32.0.1', 'public'],
    ['192.168.1.1', 'private'],
    ['fd12:3456::1', 'private'],
    ['100.64.0.1', 'private'],
    ['224.0.0.1', 'multicast'],
    ['8.8.8.8', 'public'],
    ['2001:4860:4860::8888', 'public'],
  ];
  for (const [address, kind] of classes) {
    it(`classifies ${address} as ${kind}`, () => {
      assert.equal(classifyAddress(address), kind);
    });
  }

  it('denies by default and allows by configuration', () => {
    assert.equal(checkAddress('127.0.0.1', denyAll), '127.0.0.1 is a loopback address');
    assert.equal(checkAddress('169.254.169.254', denyAll), '169.254.169.254 is a cloud metadata address');
    assert.equal(checkAddress('10.0.0.1', denyAll), '10.0.0.1 is a private address');
    assert.equal(checkAddress('127.0.0.1', { ...denyAll, allowLoopback: true }), undefined);
    assert.equal(checkAddress('169.254.169.254', { ...denyAll, allowLinkLocal: true }), undefined);
    assert.equal(checkAddress('10.0.0.1', { ...denyAll, allowPrivate: true }), undefined);
    assert.equal(checkAddress('224.0.0.1', { allowLoopback: true, allowPrivate: true, allowLinkLocal: true, allowedHosts: [] }), '224.0.0.1 is a multicast address');
  });

  it('checks URLs by their resolved addresses', async () => {
    assert.equal(await checkUrlEgress(new URL('http://169.254.169.254/latest/meta-data'), denyAll), '169.254.169.254 is a cloud metadata address');
    assert.equal(await checkUrlEgress(new URL('http://[::1]:8080/'), denyAll), '::1 is a loopback address');
    assert.match((await checkUrlEgress(new URL('http://localhost:8080/'), denyAll)) ?? '', /^localhost resolves to (127\.0\.0\.1|::1), which is a loopback address$/);
    assert.equal(await checkUrlEgress(new URL('http://localhost:8080/'), { ...denyAll, allowedHosts: ['localhost'] }), undefined);
  });

  it('refuses the connection at lookup time', async () => {
    let connections = 0;
    const server = http.createServer((_req, res) => res.end('reached'));
    server.on('connection', () => connections++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;

    const get = (lookupPolicy: EgressPolicyConfig) =>
      new Promise<string>((resolve, reject) => {
        http
          .get({ host: 'localhost', port, family: 4, lookup: createEgressLookup(lookupPolicy) }, (res) => {
            let body = '';
            res.on('data', (chunk: Buffer) => (body += chunk.toString()));
            res.on('end', () => resolve(body));
          })
          .on('error', reject);
      });

    try {
      await assert.rejects(get(denyAll), /egress policy denies localhost: 127\.0\.0\.1 is a loopback address/);
      assert.equal(connections, 0);
      assert.equal(await get({ ...denyAll, allowLoopback: true }), 'reached');
    } finally {
      server.close();
    }
  });
});
