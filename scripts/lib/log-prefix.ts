import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const HIDDEN_FIELDS = new Set(['level', 'time', 'msg', 'service', 'pid', 'hostname']);

/** Turn one pino JSON line into `LEVEL message key=value ...`. Lines that are not JSON pass unchanged. */
export function formatLogLine(line: string): string {
  if (!line.startsWith('{')) {
    return line;
  }
  try {
    const record = JSON.parse(line) as Record<string, unknown>;
    const level = LEVEL_NAMES[Number(record.level)] ?? String(record.level);
    const fields = Object.entries(record)
      .filter(([key]) => !HIDDEN_FIELDS.has(key))
      .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
    return [level.padEnd(5), typeof record.msg === 'string' ? record.msg : '', ...fields].join(' ');
  } catch {
    return line;
  }
}

/** Copy each line of `stream` to `out` with a `[name]` prefix. */
export function pipeWithPrefix(stream: Readable, name: string, out: NodeJS.WritableStream, width: number): void {
  const prefix = `[${name}]`.padEnd(width + 2);
  createInterface({ input: stream }).on('line', (line) => {
    out.write(`${prefix} ${formatLogLine(line)}\n`);
  });
}
