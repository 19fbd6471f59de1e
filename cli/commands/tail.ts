import { DeliverPolicy, jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { encodeEventType, parseEventSubject } from '../../shared/events/subject.ts';
import { EVENTS_STREAM, EVENTS_SUBJECT_PREFIX } from '../../shared/nats/names.ts';
import type { CliConfig } from '../config.ts';
import { toText, type Output } from '../output.ts';
import { CommandError, UsageError, parseCommand } from '../usage.ts';

/** Application names are DNS-1123 labels. */
const APPLICATION_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export const TAIL_HELP = `  ferry tail [--app A] [--type T] [--all]   print events live from JetStream, one line each
                                           (--all starts at the first stored event)`;

/** Maximum length of the data excerpt printed per line, in characters. */
const DATA_EXCERPT_CHARS = 120;

/** Filter subject for an optional application and type. */
export function tailSubject(application: string | undefined, type: string | undefined): string {
  const source = application ?? '*';
  return type === undefined ? `${EVENTS_SUBJECT_PREFIX}.${source}.>` : `${EVENTS_SUBJECT_PREFIX}.${source}.${encodeEventType(type)}`;
}

/** `ferry tail`: follow the events stream until Ctrl-C. */
export async function tail(args: string[], { config, output }: { config: CliConfig; output: Output }): Promise<void> {
  const { values } = parseCommand(args, { app: { type: 'string' }, type: { type: 'string' }, all: { type: 'boolean' } });
  if (values.app !== undefined && !APPLICATION_NAME.test(values.app)) {
    throw new UsageError(`--app must be an application name (a DNS-1123 label), got '${values.app}'`);
  }
  const nc = await connect({ servers: config.common.natsUrl, name: 'ferry-tail' }).catch((error: unknown) => {
    throw new CommandError(`cannot connect to NATS at ${config.common.natsUrl}: ${error instanceof Error ? error.message : String(error)}`);
  });
  process.once('SIGINT', () => void nc.close());

  const consumer = await jetstream(nc).consumers.get(EVENTS_STREAM, {
    // A single string becomes `filter_subject`, which nats-server 2.9 accepts; an array needs 2.10.
    filter_subjects: tailSubject(values.app, values.type),
    deliver_policy: values.all === true ? DeliverPolicy.All : DeliverPolicy.New,
  });
  output.progress(`following ${tailSubject(values.app, values.type)} (Ctrl-C to stop)`);

  const messages = await consumer.consume();
  void nc.closed().then(() => messages.stop());
  for await (const message of messages) {
    const origin = parseEventSubject(message.subject);
    let event: Record<string, unknown> = {};
    try {
      event = message.json<Record<string, unknown>>();
    } catch {
      // Printed with empty attributes below.
    }
    const line = {
      time: event.time,
      application: origin?.application ?? '(platform)',
      type: event.type ?? origin?.type,
      id: event.id,
      source: event.source,
      data: event.data ?? event.data_base64,
    };
    output.result(line, () => {
      const data = JSON.stringify(line.data ?? null);
      return [toText(line.time) || '-', line.application, toText(line.type), toText(line.id), data.length > DATA_EXCERPT_CHARS ? `${data.slice(0, DATA_EXCERPT_CHARS)}…` : data].join('  ');
    });
  }
}
