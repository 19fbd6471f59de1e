/**
 * RSS of an empty Node.js process, plain and with the tsx loader that every Ferry service runs
 * under (`node --import tsx`), as the floor that the memory figures start from.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ROOT } from './node-process.ts';

const execFileAsync = promisify(execFile);

/** Time the empty process waits before it reads its RSS, so that start-up has finished. */
const SETTLE_MS = 1500;
/** Prints the process's RSS in KiB, from /proc/self/status (Linux), after `SETTLE_MS`. */
const PRINT_RSS = `setTimeout(() => process.stdout.write(/^VmRSS:\\s+(\\d+)/m.exec(require('node:fs').readFileSync('/proc/self/status', 'utf8'))[1]), ${SETTLE_MS})`;

export type RuntimeMemory = { nodeMB: number; nodeWithTsxMB: number };

async function measure(flags: readonly string[]): Promise<number> {
  const { stdout } = await execFileAsync(process.execPath, [...flags, '-e', PRINT_RSS], { cwd: ROOT });
  return (Number(stdout) * 1024) / 1e6;
}

/** Measure both empty processes, in MB (10^6 bytes). */
export async function measureRuntimeMemory(): Promise<RuntimeMemory> {
  return { nodeMB: await measure([]), nodeWithTsxMB: await measure(['--import', 'tsx']) };
}
