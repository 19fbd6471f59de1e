import { readFile } from 'node:fs/promises';
import { ConfigError } from '../shared/errors/errors.ts';
import { ADMIN_HELP, app, catalog, dlq, services, sub, token } from './commands/admin.ts';
import { SYSTEM_HELP, pair, register, renew, send } from './commands/system.ts';
import { TAIL_HELP, tail } from './commands/tail.ts';
import { parseCliConfig, type CliConfig } from './config.ts';
import { createOutput, type Output } from './output.ts';
import { CommandError, ExitCode, UsageError } from './usage.ts';

const HELP = `ferry: command line for Ferry, the event-driven application gateway

Usage: ferry <command> [options]    (every command takes --help and --json; ferry --version)

${ADMIN_HELP}
${TAIL_HELP}

${SYSTEM_HELP}

Exit status: 0 success, 1 failure, 2 wrong usage.
Service URLs come from the same variables as the services (FERRY_REGISTRY_URL, FERRY_CONNECTOR_URL,
FERRY_DISPATCHER_URL, NATS_URL); the defaults match npm start.`;

async function readVersion(): Promise<string> {
  const manifest = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return `ferry ${manifest.version}`;
}

type Handler = (args: string[], context: { config: CliConfig; output: Output }) => Promise<void>;

const COMMANDS: Record<string, Handler> = {
  app,
  token,
  services,
  catalog,
  sub,
  dlq,
  tail,
  pair: (args, { output }) => pair(args, output),
  renew: (args, { output }) => renew(args, output),
  register: (args, { output }) => register(args, output),
  send: (args, { output }) => send(args, output),
};

/** Help text of one command: the overview lines that start with it, and their indented continuation lines. */
function helpFor(command: string): string {
  const lines: string[] = [];
  let inCommand = false;
  for (const line of HELP.split('\n')) {
    const trimmed = line.trimStart();
    if (trimmed.startsWith('ferry ')) {
      inCommand = trimmed.startsWith(`ferry ${command}`);
    } else if (trimmed === '' || line === trimmed) {
      inCommand = false;
    }
    if (inCommand) {
      lines.push(line);
    }
  }
  return lines.length > 0 ? `Usage:\n${lines.join('\n')}\n\nOptions for every command: --help, --json` : HELP;
}

/** Write a failure to stderr, as `{"error": …}` JSON when the command ran with `--json`. */
function reportFailure(command: string, message: string, json: boolean): void {
  process.stderr.write(json ? `${JSON.stringify({ command, error: message })}\n` : `ferry ${command}: ${message}\n`);
}

/** Run the command line and return the exit status. */
export async function runCli(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [command, ...args] = argv;
  const output = createOutput(args.includes('--json'));

  if (command === '--version' || command === '-V') {
    process.stdout.write(`${await readVersion()}\n`);
    return ExitCode.Ok;
  }
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${HELP}\n`);
    return command === undefined ? ExitCode.Usage : ExitCode.Ok;
  }
  const handler = COMMANDS[command];
  if (!handler) {
    process.stderr.write(`ferry: unknown command '${command}'. Run ferry --help for the list.\n`);
    return ExitCode.Usage;
  }
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${helpFor(command)}\n`);
    return ExitCode.Ok;
  }

  try {
    await handler(args, { config: parseCliConfig(env), output });
    return ExitCode.Ok;
  } catch (error) {
    if (error instanceof UsageError) {
      reportFailure(command, error.message, output.json);
      if (!output.json) {
        process.stderr.write(`${helpFor(command)}\n`);
      }
      return ExitCode.Usage;
    }
    const message = error instanceof CommandError || error instanceof ConfigError || error instanceof Error ? error.message : String(error);
    reportFailure(command, message, output.json);
    return ExitCode.Failure;
  }
}

process.exitCode = await runCli(process.argv.slice(2));
