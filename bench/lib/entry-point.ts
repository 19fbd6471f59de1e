import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseBenchOptions, type BenchOptions } from './options.ts';

/** True when the module at `moduleUrl` is the script that Node.js was started with. */
export function isEntryPoint(moduleUrl: string): boolean {
  const script = process.argv[1];
  return script !== undefined && path.resolve(script) === fileURLToPath(moduleUrl);
}

/** Run `main` with the parsed BENCH_* options. A failure prints its message and exits with status 1. */
export function runEntryPoint(name: string, main: (options: Readonly<BenchOptions>) => Promise<void>): void {
  const run = async (): Promise<void> => main(parseBenchOptions(process.env));
  run().catch((error: unknown) => {
    process.stderr.write(`${name}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}

/** Write one progress line to stdout. */
export function say(message: string): void {
  process.stdout.write(`[bench] ${message}\n`);
}
