import express, { Router } from 'express';
import type { Logger } from 'pino';
import { NotFoundError } from '../../shared/errors/errors.ts';
import { createFunctionContext, type ContextSettings } from './function-context.ts';
import { toFunctionEvent } from './function-event.ts';
import type { LoadedFunction } from './function-loader.ts';

export class FunctionTimeoutError extends Error {}

/** Run `main` with a deadline. The signal aborts the Function's outbound calls when the deadline passes. */
async function invoke(fn: LoadedFunction, run: (signal: AbortSignal) => unknown, timeoutMs: number): Promise<unknown> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new FunctionTimeoutError(`function '${fn.name}' did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
  });
  try {
    return await Promise.race([Promise.resolve().then(() => run(controller.signal)), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

function sendResult(res: express.Response, result: unknown): void {
  if (result === undefined || result === null) {
    res.status(204).end();
  } else if (Buffer.isBuffer(result) || result instanceof Uint8Array) {
    res.status(200).type('application/octet-stream').send(Buffer.from(result));
  } else if (typeof result === 'string') {
    res.status(200).type('text/plain').send(result);
  } else {
    res.status(200).json(result);
  }
}

/**
 * Route `POST /<name>` for every Function. The body is a binary or structured CloudEvent. A throw
 * or a timeout returns 500 with an opaque message, so the dispatcher retries.
 */
export function createFunctionRoutes(functions: LoadedFunction[], settings: ContextSettings & { bodyLimitBytes: number }, log: Logger): Router {
  const byName = new Map(functions.map((fn) => [fn.name, fn]));
  const router = Router();

  router.post('/:name', express.raw({ type: () => true, limit: settings.bodyLimitBytes }), async (req, res) => {
    const fn = byName.get(String(req.params.name));
    if (fn === undefined) {
      throw new NotFoundError(`function '${String(req.params.name)}' not found`);
    }
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const event = toFunctionEvent(req.headers, body);
    const fields = { function: fn.name, eventId: event.id, type: event.type };
    const functionLog = (req.log ?? log).child(fields);
    const timeoutMs = fn.manifest.timeoutMs ?? settings.timeoutMs;

    let result: unknown;
    try {
      result = await invoke(fn, (signal) => fn.main(event, createFunctionContext(fn.name, functionLog, settings, signal)), timeoutMs);
    } catch (error) {
      functionLog.error({ err: error }, error instanceof FunctionTimeoutError ? 'function timed out' : 'function failed');
      res.status(500).json({ code: 500, error: error instanceof FunctionTimeoutError ? error.message : `function '${fn.name}' failed` });
      return;
    }
    functionLog.debug('function finished');
    sendResult(res, result);
  });
  return router;
}
