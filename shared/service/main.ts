import { ConfigError } from '../errors/errors.ts';

/**
 * Run a service's entry point. A configuration error prints its message, which names the variable,
 * and exits with status 1. Any other startup failure prints the error and exits with status 1.
 */
export function runMain(service: string, main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    if (error instanceof ConfigError) {
      process.stderr.write(`ferry-${service}: invalid configuration: ${error.message}\n`);
    } else {
      process.stderr.write(`ferry-${service}: startup failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    }
    process.exit(1);
  });
}
