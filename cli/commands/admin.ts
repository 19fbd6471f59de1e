import { AdminClient } from '../admin-client.ts';
import type { CliConfig } from '../config.ts';
import { formatTable, toText, type Output } from '../output.ts';
import { UsageError, parseCommand, requireOption, requirePositional } from '../usage.ts';

export const ADMIN_HELP = `Administrator commands (internal API; the token comes from --token, FERRY_ADMIN_TOKEN or the local secret):
  ferry app create <name> [--description TEXT] [--label KEY=VALUE ...]
  ferry app list | get <name> | delete <name>
  ferry token <app>                      print the one-time pairing URL
  ferry services <app>                   list the registered services
  ferry catalog <app>                    list the event catalog
  ferry sub create --name N --sink URL --type T [--type T ...] [--source APP] [--exact]
                   [--max-in-flight N] [--max-deliver N]
  ferry sub list | get <name> | delete <name>
  ferry dlq list --subscription S
  ferry dlq redrive --subscription S [--id ID ...]`;

type Context = { config: CliConfig; output: Output };

const TOKEN_OPTION = { token: { type: 'string' } } as const;

function encode(segment: string): string {
  return encodeURIComponent(segment);
}

/** Raise a usage error unless `action` is one of `actions`, before any network call. */
function assertAction(command: string, action: string | undefined, actions: readonly string[]): void {
  if (action === undefined || !actions.includes(action)) {
    throw new UsageError(`unknown action '${action ?? ''}' for ferry ${command}; expected ${actions.join(', ')}`);
  }
}

function parseLabels(labels: string[] | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  for (const label of labels ?? []) {
    const at = label.indexOf('=');
    if (at <= 0) {
      throw new UsageError(`--label must be KEY=VALUE, got '${label}'`);
    }
    result[label.slice(0, at)] = label.slice(at + 1);
  }
  return result;
}

/** `ferry app create|list|get|delete`. */
export async function app(args: string[], { config, output }: Context): Promise<void> {
  const [action, ...rest] = args;
  assertAction('app', action, ['create', 'list', 'get', 'delete']);
  const { values, positionals } = parseCommand(rest, { ...TOKEN_OPTION, description: { type: 'string' }, label: { type: 'string', multiple: true } });
  const client = await AdminClient.create(config, values.token);
  const base = `${config.common.internalUrls.registry}/v1/applications`;

  switch (action) {
    case 'create': {
      const name = requirePositional(positionals, 0, 'name');
      const body = { name, description: values.description, labels: parseLabels(values.label) };
      const created = await client.call('POST', base, body);
      output.result(created, () => `created application ${name}`);
      return;
    }
    case 'list': {
      const list = (await client.call('GET', base)) as { name: string; description?: string }[];
      output.result(list, () => formatTable(['NAME', 'DESCRIPTION'], list.map((item) => [item.name, item.description ?? ''])));
      return;
    }
    case 'get': {
      const name = requirePositional(positionals, 0, 'name');
      const found = await client.call('GET', `${base}/${encode(name)}`);
      output.result(found, () => JSON.stringify(found, null, 2));
      return;
    }
    case 'delete': {
      const name = requirePositional(positionals, 0, 'name');
      await client.call('DELETE', `${base}/${encode(name)}`);
      output.result({ deleted: name }, () => `deleted application ${name} and revoked its certificates`);
      return;
    }
    default:
      return;
  }
}

/** `ferry token <app>`: print the pairing URL. */
export async function token(args: string[], { config, output }: Context): Promise<void> {
  const { values, positionals } = parseCommand(args, TOKEN_OPTION);
  const application = requirePositional(positionals, 0, 'app');
  const client = await AdminClient.create(config, values.token);
  const answer = (await client.call('POST', `${config.common.internalUrls.connector}/v1/applications/tokens`, undefined, { application })) as { url: string; token: string };
  output.result(answer, () => answer.url);
}

/** `ferry services <app>`. */
export async function services(args: string[], { config, output }: Context): Promise<void> {
  const { values, positionals } = parseCommand(args, TOKEN_OPTION);
  const application = requirePositional(positionals, 0, 'app');
  const client = await AdminClient.create(config, values.token);
  const list = (await client.call('GET', `${config.common.internalUrls.registry}/v1/applications/${encode(application)}/services`)) as { id: string; name: string; provider?: string }[];
  output.result(list, () => formatTable(['ID', 'NAME', 'PROVIDER'], list.map((item) => [item.id, item.name, item.provider ?? ''])));
}

/** `ferry catalog <app>`. */
export async function catalog(args: string[], { config, output }: Context): Promise<void> {
  const { values, positionals } = parseCommand(args, TOKEN_OPTION);
  const application = requirePositional(positionals, 0, 'app');
  const client = await AdminClient.create(config, values.token);
  const list = (await client.call('GET', `${config.common.internalUrls.registry}/v1/applications/${encode(application)}/events`)) as { type: string; version: string }[];
  output.result(list, () => formatTable(['TYPE', 'VERSION'], list.map((item) => [item.type, item.version])));
}

function parseCount(value: string | undefined, option: string): number | undefined {
  if (value === undefined) {
    return undefined;
  }
  if (!/^\d+$/.test(value)) {
    throw new UsageError(`--${option} must be a whole number, got '${value}'`);
  }
  return Number(value);
}

/** `ferry sub create|list|get|delete`. */
export async function sub(args: string[], { config, output }: Context): Promise<void> {
  const [action, ...rest] = args;
  assertAction('sub', action, ['create', 'list', 'get', 'delete']);
  const { values, positionals } = parseCommand(rest, {
    ...TOKEN_OPTION,
    name: { type: 'string' },
    sink: { type: 'string' },
    source: { type: 'string' },
    type: { type: 'string', multiple: true },
    exact: { type: 'boolean' },
    'max-in-flight': { type: 'string' },
    'max-deliver': { type: 'string' },
  });
  const client = await AdminClient.create(config, values.token);
  const base = `${config.common.internalUrls.dispatcher}/v1/subscriptions`;

  switch (action) {
    case 'create': {
      const maxInFlight = parseCount(values['max-in-flight'], 'max-in-flight');
      const maxDeliver = parseCount(values['max-deliver'], 'max-deliver');
      const body: Record<string, unknown> = {
        name: requireOption(values.name, 'name'),
        sink: requireOption(values.sink, 'sink'),
        types: values.type ?? [],
        typeMatching: values.exact === true ? 'exact' : 'standard',
      };
      if ((values.type ?? []).length === 0) throw new UsageError('missing option --type');
      if (values.source !== undefined) body.source = values.source;
      if (maxInFlight !== undefined) body.config = { maxInFlightMessages: maxInFlight };
      if (maxDeliver !== undefined) body.delivery = { maxDeliver };
      const created = await client.call('POST', base, body);
      output.result(created, () => `created subscription ${String(body.name)}`);
      return;
    }
    case 'list': {
      const answer = (await client.call('GET', base)) as { subscriptions: { name: string; sink: string; source?: string; types: string[] }[] };
      const list = answer.subscriptions;
      output.result(answer, () =>
        formatTable(['NAME', 'SOURCE', 'TYPES', 'SINK'], list.map((item) => [item.name, item.source ?? '(any)', item.types.join(','), item.sink])),
      );
      return;
    }
    case 'get': {
      const found = await client.call('GET', `${base}/${encode(requirePositional(positionals, 0, 'name'))}`);
      output.result(found, () => JSON.stringify(found, null, 2));
      return;
    }
    case 'delete': {
      const name = requirePositional(positionals, 0, 'name');
      await client.call('DELETE', `${base}/${encode(name)}`);
      output.result({ deleted: name }, () => `deleted subscription ${name}`);
      return;
    }
    default:
      return;
  }
}

/** `ferry dlq list|redrive`. */
export async function dlq(args: string[], { config, output }: Context): Promise<void> {
  const [action, ...rest] = args;
  assertAction('dlq', action, ['list', 'redrive']);
  const { values } = parseCommand(rest, { ...TOKEN_OPTION, subscription: { type: 'string' }, id: { type: 'string', multiple: true } });
  const client = await AdminClient.create(config, values.token);
  const base = `${config.common.internalUrls.dispatcher}/v1/deadletters`;

  switch (action) {
    case 'list': {
      const subscription = requireOption(values.subscription, 'subscription');
      const answer = (await client.call('GET', `${base}?subscription=${encode(subscription)}`)) as { deadLetters: Record<string, unknown>[] };
      const list = answer.deadLetters;
      output.result(answer, () =>
        formatTable(
          ['ID', 'SUBSCRIPTION', 'ATTEMPTS', 'LAST STATUS', 'LAST ERROR'],
          list.map((item) => [toText(item.id), toText(item.subscription), toText(item.attempts), toText(item.lastStatus), toText(item.lastError)]),
        ),
      );
      return;
    }
    case 'redrive': {
      const body: Record<string, unknown> = { subscription: requireOption(values.subscription, 'subscription') };
      if (values.id !== undefined) body.ids = values.id;
      const answer = await client.call('POST', `${base}/redrive`, body);
      output.result(answer, () => `redrive requested: ${JSON.stringify(answer)}`);
      return;
    }
    default:
      return;
  }
}
