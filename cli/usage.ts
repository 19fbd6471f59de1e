import { parseArgs, type ParseArgsConfig } from 'node:util';

/** Exit codes of the `ferry` command. */
export const ExitCode = { Ok: 0, Failure: 1, Usage: 2 } as const;

/** A wrong command line: unknown option, missing argument. Exits with status 2. */
export class UsageError extends Error {}

/** A failed operation: an HTTP error, a missing file. Exits with status 1. */
export class CommandError extends Error {}

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export type ParsedCommand<T extends OptionSpec> = {
  values: { [K in keyof T]?: T[K] extends { type: 'boolean' } ? boolean : T[K] extends { multiple: true } ? string[] : string };
  positionals: string[];
};

/** Options every command takes. */
export const COMMON_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' },
} as const satisfies OptionSpec;

/** Parse a subcommand's arguments strictly, turning parser errors into `UsageError`. */
export function parseCommand<T extends OptionSpec>(args: string[], options: T): ParsedCommand<T & typeof COMMON_OPTIONS> {
  try {
    const parsed = parseArgs({ args, options: { ...COMMON_OPTIONS, ...options }, allowPositionals: true, strict: true });
    return parsed;
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

/** Return the positional argument at `index`, or raise a usage error naming it. */
export function requirePositional(positionals: string[], index: number, name: string): string {
  const value = positionals[index];
  if (value === undefined || value === '') {
    throw new UsageError(`missing argument <${name}>`);
  }
  return value;
}

export function requireOption(value: string | undefined, name: string): string {
  if (value === undefined || value === '') {
    throw new UsageError(`missing option --${name}`);
  }
  return value;
}
