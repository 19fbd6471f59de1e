/**
 * W3C Trace Context on ingress: an incoming `traceparent` header becomes the CloudEvents Distributed
 * Tracing extension (`traceparent`, `tracestate`), so the trace continues from ingress to the sink.
 */
import type { CloudEventAttributeValue, StoredCloudEvent } from '../../../shared/events/stored-event.ts';
import { isCloudEventsString } from './attribute-rules.ts';

/** W3C Trace Context §3.2: `version-traceid-parentid-flags`, lower-case hex; version `ff` is invalid. */
const TRACEPARENT = /^(?!ff)[0-9a-f]{2}-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}(?:-.*)?$/;

/** The trace headers of a request, as received. */
export type TraceHeaders = { traceparent: string | undefined; tracestate: string | undefined };

/** True for a `traceparent` value that a tracer could continue. Malformed ones are ignored, as W3C Trace Context §3.2 requires. */
export function isTraceparent(value: string | undefined): value is string {
  return value !== undefined && TRACEPARENT.test(value);
}

/**
 * Add the request's trace context to an event that carries none of its own. An event that already has
 * a `traceparent` attribute keeps it, because the sender set it for this event on purpose.
 */
export function withTraceContext(event: StoredCloudEvent, headers: TraceHeaders): StoredCloudEvent {
  if (event.attributes.traceparent !== undefined || !isTraceparent(headers.traceparent)) {
    return event;
  }

  const attributes: Record<string, CloudEventAttributeValue> = { ...event.attributes, traceparent: headers.traceparent };
  const tracestate = headers.tracestate?.trim();
  if (tracestate !== undefined && tracestate !== '' && event.attributes.tracestate === undefined && isCloudEventsString(tracestate)) {
    attributes.tracestate = tracestate;
  }
  return { ...event, attributes };
}
