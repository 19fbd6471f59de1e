import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { YAML_PARSE_OPTIONS, describeParseFailure } from '../domain/spec-format.ts';

/** Heap limit of the thread that parses one YAML spec, in MiB. A larger document fails instead of exhausting the process. */
export const YAML_WORKER_MAX_HEAP_MB = 256;

/** Parsed document, or the reason parsing failed, ready for an error message. */
export type YamlParseResult = { ok: true; document: unknown } | { ok: false; reason: string };

/** Path of the `yaml` package's CommonJS entry, so the worker script loads the same version. */
const YAML_MODULE_PATH = createRequire(import.meta.url).resolve('yaml');

/**
 * Source of the worker. It is plain CommonJS, evaluated by `new Worker(..., { eval: true })`, because
 * a worker thread does not inherit the TypeScript loader of the main thread.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { parse } = require(${JSON.stringify(YAML_MODULE_PATH)});
try {
  parentPort.postMessage({ ok: true, document: parse(workerData.text, workerData.options) });
} catch (error) {
  parentPort.postMessage({ ok: false, reason: String((error && error.message) || error) });
}
`;

/**
 * Parse YAML on a worker thread, because the `yaml` package takes on the order of a second for a
 * spec of a few hundred KB and would block every other request meanwhile. The worker is stopped
 * after `timeoutMs` or when it exceeds `YAML_WORKER_MAX_HEAP_MB`.
 */
export function parseYamlOffThread(text: string, timeoutMs: number): Promise<YamlParseResult> {
  return new Promise((resolve) => {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { text, options: { ...YAML_PARSE_OPTIONS } },
      resourceLimits: { maxOldGenerationSizeMb: YAML_WORKER_MAX_HEAP_MB },
    });

    let settled = false;
    const finish = (result: YamlParseResult): void => {
      if (settled) {
        return;
      }
      settled = true;
      clearTimeout(deadline);
      void worker.terminate();
      resolve(result);
    };
    const deadline = setTimeout(() => finish({ ok: false, reason: `YAML parsing did not finish within ${timeoutMs} ms` }), timeoutMs);

    worker.once('message', (message: YamlParseResult) => finish(message.ok ? message : { ok: false, reason: describeParseFailure(message.reason) }));
    worker.once('error', (error) => finish({ ok: false, reason: `YAML parsing failed: ${error.message}` }));
    worker.once('exit', (code) => finish({ ok: false, reason: `YAML parser stopped with exit code ${code}` }));
  });
}
