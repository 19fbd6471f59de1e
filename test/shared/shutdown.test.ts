import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { createInternalServer, listen } from '../../shared/http/server.ts';
import { GracefulShutdown } from '../../shared/http/shutdown.ts';
import { request } from '../helpers/http.ts';

const silent = pino({ level: 'silent' });

describe('graceful shutdown', () => {
  it('finishes in-flight requests and refuses new ones', async () => {
    const server = createInternalServer((req, res) => {
      const delayMs = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('delay') ?? '0');
      setTimeout(() => res.end(`done after ${delayMs}`), delayMs);
    });
    const { port } = await listen(server, 0, '127.0.0.1');
    const order: string[] = [];
    const shutdown = new GracefulShutdown(silent, 5000);
    shutdown.addServer(server);
    shutdown.addCleanup('first registered', () => {
      order.push('first registered');
    });
    shutdown.addCleanup('second registered', () => {
      order.push('second registered');
    });

    // A keep-alive connection that is idle must not hold the shutdown open.
    const agent = new http.Agent({ keepAlive: true });
    await new Promise<void>((resolve) => http.get({ port, host: '127.0.0.1', agent, path: '/' }, (res) => res.resume().on('end', resolve)));

    const inFlight = request(`http://127.0.0.1:${port}/?delay=800`);
    await sleep(100);
    const startedAt = Date.now();
    const stopped = shutdown.stop();

    await sleep(100);
    await assert.rejects(request(`http://127.0.0.1:${port}/`), /ECONNREFUSED/);

    const response = await inFlight;
    assert.equal(response.status, 200);
    assert.equal(response.body, 'done after 800');
    await stopped;
    assert.ok(Date.now() - startedAt < 4000, 'stops without waiting for the deadline');
    assert.deepEqual(order, ['second registered', 'first registered']);
    agent.destroy();
  });

  it('cuts requests that outlive the deadline', async () => {
    const server = createInternalServer(() => {
      // Never answers.
    });
    const { port } = await listen(server, 0, '127.0.0.1');
    const shutdown = new GracefulShutdown(silent, 300);
    shutdown.addServer(server);

    const hanging = request(`http://127.0.0.1:${port}/`);
    await sleep(100);
    const startedAt = Date.now();
    await shutdown.stop();
    assert.ok(Date.now() - startedAt < 2000);
    await assert.rejects(hanging, /socket hang up|ECONNRESET/);
  });
});
