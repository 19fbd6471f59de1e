import type { IncomingMessage } from 'node:http';
import { InputError, PayloadTooLargeError } from '../../../shared/errors/errors.ts';

function tooLarge(limitBytes: number): PayloadTooLargeError {
  return new PayloadTooLargeError(`request body exceeds the limit of ${limitBytes} bytes`);
}

/**
 * Buffer a request body of at most `limitBytes`. A declared `Content-Length` over the limit is
 * rejected before any byte is read; a chunked body is rejected as soon as it passes the limit.
 */
export function readBody(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limitBytes) {
    return Promise.reject(tooLarge(limitBytes));
  }

  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;

    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
    };
    const onData = (chunk: Buffer): void => {
      length += chunk.length;
      if (length > limitBytes) {
        cleanup();
        // Keep reading so the socket is not stuck, but drop what arrives.
        req.resume();
        reject(tooLarge(limitBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length));
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(new InputError('request body could not be read', { cause: error }));
    };
    const onAborted = (): void => {
      cleanup();
      reject(new InputError('request was aborted by the client'));
    };

    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
  });
}
