import { PLATFORM_SOURCE_TOKEN, eventSubject } from '../../../shared/events/subject.ts';
import { createStoredEventMessageId, encodeStoredEvent, type StoredCloudEvent } from '../../../shared/events/stored-event.ts';
import { InvalidEventError } from './invalid-event-error.ts';

/**
 * Maximum subject length of an event, in bytes. NATS puts the subject on the protocol's control line,
 * whose default limit is 4096 bytes, and a longer line makes the server close the whole connection.
 */
export const MAX_SUBJECT_LENGTH = 1024;

/** One event ready for JetStream: where it goes, its deduplication id and the stored body. */
export type EventMessage = {
  subject: string;
  /** `Nats-Msg-Id`, derived from (application, source, id). */
  messageId: string;
  payload: Buffer;
  /** The CloudEvent `id`, for logs. */
  eventId: string;
};

/**
 * Build the message for an event. `application` is the authenticated application, or undefined for
 * in-platform events from `/publish`; the subject never comes from the CE `source`.
 */
export function createEventMessage(application: string | undefined, event: StoredCloudEvent): EventMessage {
  const { id, source, type } = event.attributes as { id: string; source: string; type: string };
  const subject = eventSubject(application, type);
  if (subject.length > MAX_SUBJECT_LENGTH) {
    throw new InvalidEventError('type', `is too long: its NATS subject would have ${subject.length} bytes, over the limit of ${MAX_SUBJECT_LENGTH}`);
  }

  return {
    subject,
    messageId: createStoredEventMessageId(application ?? PLATFORM_SOURCE_TOKEN, source, id),
    payload: encodeStoredEvent(event),
    eventId: id,
  };
}
