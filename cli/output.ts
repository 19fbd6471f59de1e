/** Writes command results: JSON for scripts with `--json`, readable text otherwise. */
export type Output = {
  json: boolean;
  /** Print a result: as JSON with `--json`, else as the given text. */
  result(value: unknown, text: () => string): void;
  /** Print a progress line to stderr, only in interactive mode. */
  progress(message: string): void;
};

export function createOutput(json: boolean, stdout: NodeJS.WritableStream = process.stdout, stderr: NodeJS.WritableStream = process.stderr): Output {
  return {
    json,
    result(value, text) {
      stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${text()}\n`);
    },
    progress(message) {
      if (!json) {
        stderr.write(`${message}\n`);
      }
    },
  };
}

/** Format rows as an aligned table with a header. */
export function formatTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/** Render any value for a table cell or a line: text as is, other values as JSON, nothing for null. */
export function toText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}
