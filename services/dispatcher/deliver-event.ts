import { toBinaryHeaders } from './binary-headers.ts';
import type { SinkClient, SinkResult } from './sink-client.ts';
import type { StoredEvent } from './stored-event.ts';
import type { Subscription } from './subscription.ts';

/** POST one event to the subscription's sink as a binary-mode CloudEvent, with the subscription's timeout. */
export function deliverEvent(
  sink: SinkClient,
  subscription: Subscription,
  event: StoredEvent,
  progress?: { onProgress: () => void; intervalMs: number },
): Promise<SinkResult> {
  return sink.post({
    url: subscription.sink,
    headers: toBinaryHeaders(event),
    body: event.body,
    timeoutMs: subscription.delivery.timeoutMs,
    onProgress: progress?.onProgress,
    progressIntervalMs: progress?.intervalMs,
  });
}
