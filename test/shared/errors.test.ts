import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import pino from 'pino';
import {
  ConflictError,
  ForbiddenError,
  InputError,
  NotFoundError,
  PayloadTooLargeError,
  StorageFullError,
  UnauthenticatedError,
  UnavailableError,
  UpstreamError,
  UpstreamTimeoutError,
  UnsupportedMediaTypeError,
} from '../../shared/errors/errors.ts';
import { createErrorHandler, toHttpFailure } from '../../shared/errors/http-handler.ts';
import { request } from '../helpers/http.ts';

describe('error mapping', () => {
  const table: [Error, number][] = [
    [new InputError('bad'), 400],
    [new UnauthenticatedError('who'), 401],
    [new ForbiddenError('no'), 403],
    [new NotFoundError('gone'), 404],
    [new ConflictError('taken'), 409],
    [new PayloadTooLargeError('big'), 413],
    [new UnsupportedMediaTypeError('type'), 415],
    [new UpstreamError('broken'), 502],
    [new UnavailableError('later'), 503],
    [new UpstreamTimeoutError('slow'), 504],
    [new StorageFullError('full'), 507],
  ];

  for (const [error, status] of table) {
    it(`maps ${error.name} to ${status}`, () => {
      const failure = toHttpFailure(error);
      assert.equal(failure.status, status);
      assert.deepEqual(failure.body, { code: status, error: error.message });
      assert.equal(failure.logId, undefined);
    });
  }

  it('adds Retry-After for unavailable', () => {
    assert.deepEqual(toHttpFailure(new UnavailableError('later', { retryAfterSeconds: 7 })).headers, { 'retry-after': '7' });
  });

  it('hides unknown errors behind a log id', () => {
    const failure = toHttpFailure(new Error('password=hunter2 at /srv/app.ts:12'));
    assert.equal(failure.status, 500);
    assert.ok(failure.logId);
    assert.equal(failure.body.error, `internal error, log id ${failure.logId}`);
    assert.doesNotMatch(JSON.stringify(failure.body), /hunter2|app\.ts/);
  });

  it('hides thrown non-errors', () => {
    assert.equal(toHttpFailure('a string').status, 500);
    assert.equal(toHttpFailure(undefined).status, 500);
  });
});

describe('express error handler', () => {
  let server: http.Server;
  let url: string;
  const lines: Record<string, unknown>[] = [];

  before(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        callback();
      },
    });
    const log = pino({ level: 'debug' }, sink);
    const app = express();
    app.post('/json', express.json({ limit: 100 }), (_req, res) => {
      res.json({ ok: true });
    });
    app.get('/crash', () => {
      throw new TypeError('secret internals');
    });
    app.get('/missing', () => {
      throw new NotFoundError("application 'x' does not exist");
    });
    app.use(createErrorHandler(log));
    server = http.createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  it('answers a Ferry error with its status and message', async () => {
    const response = await request(`${url}/missing`);
    assert.equal(response.status, 404);
    assert.deepEqual(response.json(), { code: 404, error: "application 'x' does not exist" });
  });

  it('answers malformed JSON with 400', async () => {
    const response = await request(`${url}/json`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":' });
    assert.equal(response.status, 400);
    assert.deepEqual(response.json(), { code: 400, error: 'request body is not valid JSON' });
  });

  it('answers an oversized body with 413', async () => {
    const response = await request(`${url}/json`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ a: 'x'.repeat(200) }) });
    assert.equal(response.status, 413);
    assert.deepEqual(response.json(), { code: 413, error: 'request body exceeds the limit of 100 bytes' });
  });

  it('answers an unknown error with 500 and logs it under the id', async () => {
    const response = await request(`${url}/crash`);
    assert.equal(response.status, 500);
    const body = response.json() as { code: number; error: string };
    assert.doesNotMatch(body.error, /secret internals/);
    const logId = /log id (\S+)$/.exec(body.error)?.[1];
    assert.ok(logId);
    const logged = lines.find((line) => line.logId === logId);
    assert.ok(logged, 'the error is logged with the same id');
    assert.equal(logged.level, 50);
    assert.match(JSON.stringify(logged.err), /secret internals/);
  });
});
