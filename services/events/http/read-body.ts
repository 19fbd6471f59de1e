import type { IncomingMessage } from 'node:http';
import { InputError, PayloadTooLargeError } from '../../../shared/errors/errors.ts';

function tooLarge(limitBytes: number): PayloadTooLargeError {
  return new PayloadTooLargeError(`request body exceeds the limit of ${limitBytes} bytes`);
}

/** The state of one body being read. The listeners below are shared by all requests, so none is created per request. */
type BodyRead = {
  chunks: Buffer[];
  length: number;
  limitBytes: number;
  resolve: (body: Buffer) => void;
  reject: (error: Error) => void;
};

const reads = new WeakMap<IncomingMessage, BodyRead>();

function finish(req: IncomingMessage): BodyRead {
  const read = reads.get(req)!;
  reads.delete(req);
  req.off('data', onData);
  req.off('end', onEnd);
  req.off('error', onError);
  req.off('aborted', onAborted);
  return read;
}

function onData(this: IncomingMessage, chunk: Buffer): void {
  const read = reads.get(this)!;
  read.length += chunk.length;
  if (read.length > read.limitBytes) {
    finish(this);
    // Keep reading so the socket is not stuck, but drop what arrives.
    this.resume();
    read.reject(tooLarge(read.limitBytes));
    return;
  }
  read.chunks.push(chunk);
}

function onEnd(this: IncomingMessage): void {
  const read = finish(this);
  read.resolve(read.chunks.length === 1 ? read.chunks[0]! : Buffer.concat(read.chunks, read.length));
}

function onError(this: IncomingMessage, error: Error): void {
  finish(this).reject(new InputError('request body could not be read', { cause: error }));
}

function onAborted(this: IncomingMessage): void {
  finish(this).reject(new InputError('request was aborted by the client'));
}

/**
 * Buffer a request body of at most `limitBytes`. A declared `Content-Length` over the limit is
 * rejected before any byte is read, and a chunked body as soon as it passes the limit.
 */
export function readBody(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limitBytes) {
    return Promise.reject(tooLarge(limitBytes));
  }

  return new Promise((resolve, reject) => {
    reads.set(req, { chunks: [], length: 0, limitBytes, resolve, reject });
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
  });
}
