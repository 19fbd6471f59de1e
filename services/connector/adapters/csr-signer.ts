import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { InputError, UnavailableError } from '../../../shared/errors/errors.ts';
import type { SubjectAttributeName } from '../domain/certificate-subject.ts';
import { validateCsr } from '../domain/csr.ts';
import { createCertificateIssuer, type IssuedCertificate, type LoadedCertificateAuthority } from './certificate-issuer.ts';

/** A job that ran longer than this is abandoned: its worker is replaced and the request gets 400. */
export const SIGNING_JOB_TIMEOUT_MS = 5000;
/** Jobs waiting for a worker beyond this many get 503, so a flood cannot grow memory without bound. */
export const MAX_QUEUED_SIGNING_JOBS = 1000;

export type SignedCsr = IssuedCertificate & { csrSignatureAlgorithm: string };

/** Checks a CSR (see `validateCsr`) and issues its certificate. */
export type CsrSigner = {
  /** Throws `InputError` for a CSR that is not acceptable. */
  sign(csrField: string, subject: Record<SubjectAttributeName, string>): Promise<SignedCsr>;
  close(): Promise<void>;
};

export type CsrSignerOptions = {
  ca: LoadedCertificateAuthority;
  /** Validity of issued certificates in milliseconds. */
  validityMs: number;
  /** Clock in epoch milliseconds, for tests. Read on the event loop and sent with each job. */
  now?: () => number;
};

/** A job as sent to a signing worker. */
export type SigningJob = { csrField: string; subject: Record<SubjectAttributeName, string>; nowMs: number };
/** Result of one signing job. An `input` failure is the client's fault and becomes 400. */
export type SigningOutcome = { ok: true; signed: SignedCsr } | { ok: false; kind: 'input' | 'internal'; message: string };
/** Message a worker posts once its modules are loaded, before any result. */
export const WORKER_READY = 'ready';

/** Delay before a failed worker is replaced, doubled after each failure in a row up to `MAX_RESTART_DELAY_MS`. */
const FIRST_RESTART_DELAY_MS = 100;
const MAX_RESTART_DELAY_MS = 5000;
/** How long a new worker may take to load its modules. */
const WORKER_START_TIMEOUT_MS = 30_000;

/** Data each worker starts with. */
export type SigningWorkerData = { ca: LoadedCertificateAuthority; validityMs: number };

/** Check and sign one CSR synchronously. Runs inside a worker, or on the event loop when there are no workers. */
export function runSigningJob(data: SigningWorkerData, job: SigningJob): SigningOutcome {
  try {
    const csr = validateCsr(job.csrField, job.subject);
    const issuer = createCertificateIssuer({ ca: data.ca, validityMs: data.validityMs, now: () => job.nowMs });
    return { ok: true, signed: { ...issuer.issue(job.subject, csr.publicKeyPem), csrSignatureAlgorithm: csr.signatureAlgorithm } };
  } catch (error) {
    if (error instanceof InputError) {
      return { ok: false, kind: 'input', message: error.message };
    }
    return { ok: false, kind: 'internal', message: error instanceof Error ? (error.stack ?? error.message) : String(error) };
  }
}

function toResult(outcome: SigningOutcome): SignedCsr {
  if (outcome.ok) {
    return outcome.signed;
  }
  if (outcome.kind === 'input') {
    throw new InputError(outcome.message);
  }
  throw new Error(`CSR signing failed: ${outcome.message}`);
}

/** Create a signer that runs on the event loop. Each signature blocks the loop for several milliseconds of forge's pure JS. */
export function createInlineSigner(options: CsrSignerOptions): CsrSigner {
  const data: SigningWorkerData = { ca: options.ca, validityMs: options.validityMs };
  const now = options.now ?? Date.now;
  return {
    // A throw inside the executor becomes the rejection.
    sign: (csrField, subject) => new Promise((resolve) => resolve(toResult(runSigningJob(data, { csrField, subject, nowMs: now() })))),
    close: () => Promise.resolve(),
  };
}

type Pending = { job: SigningJob; resolve: (signed: SignedCsr) => void; reject: (error: unknown) => void };
type Slot = { worker: Worker | undefined; ready: boolean; current: Pending | undefined; timer: NodeJS.Timeout | undefined; failures: number };

const WORKER_ENTRY = new URL('./csr-signing-worker.ts', import.meta.url);

/**
 * Start a worker thread on `entry`. Node 20 does not run `--import tsx` in workers, so a TypeScript entry
 * is loaded through tsx's API from a small JavaScript bootstrap.
 */
function startWorkerThread(entry: URL, workerData: unknown): Worker {
  if (!entry.pathname.endsWith('.ts')) {
    return new Worker(entry, { workerData });
  }
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then(({ register }) => { register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(bootstrap, { eval: true, workerData });
}

/**
 * Sign in a pool of worker threads, so forge's CSR parsing and signature check and the certificate
 * build never hold the event loop. Each worker takes one job at a time; the rest wait in a queue. A
 * worker that fails or overruns `SIGNING_JOB_TIMEOUT_MS` is replaced. Resolves once every worker has
 * loaded, and rejects when one cannot.
 */
export async function createWorkerSigner(options: CsrSignerOptions & { threads: number; log: Logger }): Promise<CsrSigner> {
  const data: SigningWorkerData = { ca: options.ca, validityMs: options.validityMs };
  const now = options.now ?? Date.now;
  const queue: Pending[] = [];
  const slots: Slot[] = [];
  let closed = false;

  function finish(slot: Slot): Pending | undefined {
    const pending = slot.current;
    clearTimeout(slot.timer);
    slot.current = undefined;
    slot.timer = undefined;
    return pending;
  }

  function discard(slot: Slot, reason: string): void {
    finish(slot)?.reject(new Error(`CSR signing worker failed: ${reason}`));
    slot.worker?.removeAllListeners();
    void slot.worker?.terminate();
    slot.worker = undefined;
    slot.ready = false;
    if (closed) {
      return;
    }
    slot.failures++;
    const delayMs = Math.min(MAX_RESTART_DELAY_MS, FIRST_RESTART_DELAY_MS * 2 ** (slot.failures - 1));
    options.log.warn({ reason, delayMs, failures: slot.failures }, 'replacing CSR signing worker');
    setTimeout(() => start(slot), delayMs).unref();
  }

  function start(slot: Slot, onReady?: (error?: Error) => void): void {
    if (closed) {
      return;
    }
    const worker = startWorkerThread(WORKER_ENTRY, data);
    slot.worker = worker;
    worker.on('message', (message: SigningOutcome | typeof WORKER_READY) => {
      if (message === WORKER_READY) {
        slot.ready = true;
        onReady?.();
        dispatch();
        return;
      }
      slot.failures = 0;
      const pending = finish(slot);
      try {
        pending?.resolve(toResult(message));
      } catch (error) {
        pending?.reject(error);
      }
      dispatch();
    });
    worker.on('error', (error) => {
      onReady?.(error);
      discard(slot, error.message);
    });
    worker.on('exit', (code) => {
      onReady?.(new Error(`exited with code ${code}`));
      discard(slot, `exited with code ${code}`);
    });
  }

  function dispatch(): void {
    for (const slot of slots) {
      if (!slot.ready || slot.current !== undefined) {
        continue;
      }
      const next = queue.shift();
      if (next === undefined) {
        return;
      }
      slot.current = next;
      slot.timer = setTimeout(() => {
        finish(slot)?.reject(new InputError(`CSR could not be checked within ${SIGNING_JOB_TIMEOUT_MS} ms and was abandoned`));
        discard(slot, 'job timed out');
      }, SIGNING_JOB_TIMEOUT_MS);
      slot.worker!.postMessage(next.job);
    }
  }

  const signer: CsrSigner = {
    sign(csrField, subject) {
      if (closed) {
        return Promise.reject(new UnavailableError('the connector is shutting down'));
      }
      if (queue.length >= MAX_QUEUED_SIGNING_JOBS) {
        return Promise.reject(new UnavailableError(`${queue.length} CSRs are waiting to be signed, try again`));
      }
      return new Promise((resolve, reject) => {
        queue.push({ job: { csrField, subject, nowMs: now() }, resolve, reject });
        dispatch();
      });
    },

    async close() {
      closed = true;
      for (const pending of queue.splice(0)) {
        pending.reject(new UnavailableError('the connector is shutting down'));
      }
      await Promise.all(
        slots.map(async (slot) => {
          slot.worker?.removeAllListeners();
          finish(slot)?.reject(new UnavailableError('the connector is shutting down'));
          await slot.worker?.terminate();
        }),
      );
    },
  };

  const started = Array.from({ length: options.threads }, () => {
    const slot: Slot = { worker: undefined, ready: false, current: undefined, timer: undefined, failures: 0 };
    slots.push(slot);
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`CSR signing worker did not start within ${WORKER_START_TIMEOUT_MS} ms`)), WORKER_START_TIMEOUT_MS);
      let settled = false;
      start(slot, (error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error) reject(error);
        else resolve();
      });
    });
  });
  try {
    await Promise.all(started);
  } catch (error) {
    await signer.close();
    throw new Error(`cannot start the CSR signing workers: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  return signer;
}
