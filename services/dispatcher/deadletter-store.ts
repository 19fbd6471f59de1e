import { AckPolicy, DeliverPolicy, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { headers, nanos, type MsgHdrs } from '@nats-io/transport-node';
import { UnavailableError } from '../../shared/errors/errors.ts';
import { DEADLETTER_STREAM, DEADLETTER_SUBJECT_PREFIX } from '../../shared/nats/names.ts';
import { decodeStoredEvent, type StoredEvent } from './stored-event.ts';

/** Headers of a dead letter. The body is the stored event, byte for byte. */
export const DeadLetterHeader = {
  Subscription: 'Ferry-Subscription',
  Attempts: 'Ferry-Attempts',
  /** The sink's last HTTP status, or empty when no response arrived. */
  LastStatus: 'Ferry-Last-Status',
  LastError: 'Ferry-Last-Error',
  /** Subject and sequence of the event in the events stream. */
  EventSubject: 'Ferry-Event-Subject',
  EventSequence: 'Ferry-Event-Sequence',
} as const;

/** Longest `Ferry-Last-Error` value. Longer errors are cut. */
export const MAX_LAST_ERROR_LENGTH = 512;
/** How long a listing waits for the dead letters that the stream reported. */
const LIST_FETCH_EXPIRES_MS = 2000;
/** A listing's consumer is removed by the server after this idle time, in case the explicit delete fails. */
const LIST_CONSUMER_INACTIVE_MS = 30_000;

export type DeadLetterReason = {
  subscription: string;
  attempts: number;
  lastStatus: number | undefined;
  lastError: string;
  eventSubject: string;
  eventSequence: number;
};

export type DeadLetter = DeadLetterReason & {
  /** Sequence in the dead-letter stream. */
  sequence: number;
  deadLetteredAt: string;
  /** The stored event bytes, for redelivery. */
  data: Uint8Array;
  /** The decoded event, or undefined when the stored bytes are not a valid event. */
  event: StoredEvent | undefined;
};

export function deadLetterSubject(subscription: string): string {
  return `${DEADLETTER_SUBJECT_PREFIX}.${subscription}`;
}

/** Make a value safe for a NATS header: no control characters, bounded length. */
function toHeaderValue(value: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = value.replace(/[\u0000-\u001f\u007f]+/g, ' ');
  return clean.length > MAX_LAST_ERROR_LENGTH ? `${clean.slice(0, MAX_LAST_ERROR_LENGTH - 3)}...` : clean;
}

function toDeadLetter(seq: number, time: Date, data: Uint8Array, header: MsgHdrs | undefined): DeadLetter {
  const lastStatus = header?.get(DeadLetterHeader.LastStatus) ?? '';
  let event: StoredEvent | undefined;
  try {
    event = decodeStoredEvent(data);
  } catch {
    event = undefined;
  }
  return {
    sequence: seq,
    deadLetteredAt: time.toISOString(),
    subscription: header?.get(DeadLetterHeader.Subscription) ?? '',
    attempts: Number(header?.get(DeadLetterHeader.Attempts) ?? 0),
    lastStatus: lastStatus === '' ? undefined : Number(lastStatus),
    lastError: header?.get(DeadLetterHeader.LastError) ?? '',
    eventSubject: header?.get(DeadLetterHeader.EventSubject) ?? '',
    eventSequence: Number(header?.get(DeadLetterHeader.EventSequence) ?? 0),
    data,
    event,
  };
}

/** Writes, lists and removes dead letters in the `FERRY_DEADLETTER` stream. */
export class DeadLetterStore {
  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
  ) {}

  /**
   * Store a failed event with the reason. The message id is derived from the subscription and the
   * event's stream sequence, so a retry after a crash does not store it twice within the duplicate window.
   */
  async add(data: Uint8Array, reason: DeadLetterReason): Promise<void> {
    const header = headers();
    header.set(DeadLetterHeader.Subscription, reason.subscription);
    header.set(DeadLetterHeader.Attempts, String(reason.attempts));
    header.set(DeadLetterHeader.LastStatus, reason.lastStatus === undefined ? '' : String(reason.lastStatus));
    header.set(DeadLetterHeader.LastError, toHeaderValue(reason.lastError));
    header.set(DeadLetterHeader.EventSubject, reason.eventSubject);
    header.set(DeadLetterHeader.EventSequence, String(reason.eventSequence));
    header.set('Content-Type', 'application/cloudevents+json');
    await this.js.publish(deadLetterSubject(reason.subscription), data, {
      headers: header,
      msgID: `${reason.subscription}:${reason.eventSequence}`,
    });
  }

  /** List up to `limit` dead letters of a subscription, oldest first. */
  async list(subscription: string, limit: number): Promise<DeadLetter[]> {
    const subject = deadLetterSubject(subscription);
    try {
      const info = await this.jsm.streams.info(DEADLETTER_STREAM, { subjects_filter: subject });
      const count = info.state.subjects?.[subject] ?? 0;
      if (count === 0) {
        return [];
      }

      // An ephemeral consumer with one filter subject, because nats-server 2.9 rejects `filter_subjects`.
      const { name } = await this.jsm.consumers.add(DEADLETTER_STREAM, {
        filter_subject: subject,
        ack_policy: AckPolicy.None,
        deliver_policy: DeliverPolicy.All,
        inactive_threshold: nanos(LIST_CONSUMER_INACTIVE_MS),
        mem_storage: true,
      });
      const consumer = await this.js.consumers.get(DEADLETTER_STREAM, name);
      const wanted = Math.min(count, limit);
      const messages = await consumer.fetch({ max_messages: wanted, expires: LIST_FETCH_EXPIRES_MS });
      const letters: DeadLetter[] = [];
      for await (const message of messages) {
        letters.push(toDeadLetter(message.seq, message.time, message.data, message.headers));
        if (letters.length >= wanted || message.info.pending === 0) {
          break;
        }
      }
      await consumer.delete().catch(() => undefined);
      return letters;
    } catch (error) {
      throw new UnavailableError('dead-letter stream is unavailable, retry later', { cause: error });
    }
  }

  async remove(sequence: number): Promise<void> {
    await this.jsm.streams.deleteMessage(DEADLETTER_STREAM, sequence, false);
  }
}
