import { SpecFormat } from './spec-format.ts';

/** One entry of an application's event catalog, as `GET /v1/applications/{name}/events` returns it. */
export type CatalogEvent = { type: string; version: string; schema: unknown };

/** Depth of nested `$ref`s at which resolution stops, leaving the reference in place. */
const MAX_REF_DEPTH = 32;

/** Nesting depth below which a schema is copied as it is, with no further `$ref` resolution. */
const MAX_INLINE_DEPTH = 512;

const VERSION_SEGMENT = /^v\d+$/i;

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Split an event name into type and version: the last dot-separated segment is the version when it
 * looks like `v1`. `order.created.v1` gives `order.created` and `v1`. Other names keep their exact
 * spelling as the type, with an empty version.
 */
export function splitEventName(name: string): { type: string; version: string } {
  const dot = name.lastIndexOf('.');
  const last = name.slice(dot + 1);
  if (dot > 0 && VERSION_SEGMENT.test(last)) {
    return { type: name.slice(0, dot), version: last };
  }
  return { type: name, version: '' };
}

/** Look up a local JSON pointer (`#/components/schemas/x`, RFC 6901) in `root`. */
function resolvePointer(root: Json, ref: string): unknown {
  if (!ref.startsWith('#/')) {
    return undefined;
  }
  let current: unknown = root;
  for (const raw of ref.slice(2).split('/')) {
    const segment = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (!isObject(current) && !Array.isArray(current)) {
      return undefined;
    }
    current = (current as Json)[segment];
  }
  return current;
}

/**
 * Maximum number of objects and arrays copied while resolving references in one document. Each
 * resolution copies its target, so without a budget a small document whose schemas reference each
 * other many times over could expand exponentially. Once it is spent, values are kept as they are.
 */
export const MAX_INLINED_NODES = 100_000;

/** State of one document's reference resolution: the document and the copy budget left. */
export type InlineContext = { root: Json; remainingNodes: number };

export function createInlineContext(root: Json): InlineContext {
  return { root, remainingNodes: MAX_INLINED_NODES };
}

/**
 * Copy `value` with local `$ref`s replaced by their targets. A reference stays as it is when it
 * cannot be resolved, points back into itself, is nested in `MAX_REF_DEPTH` other references, or
 * comes after the context's copy budget is spent.
 */
export function inlineLocalRefs(value: unknown, context: InlineContext, seen: readonly string[] = [], depth = 0): unknown {
  if (depth >= MAX_INLINE_DEPTH || context.remainingNodes <= 0 || typeof value !== 'object' || value === null) {
    return value;
  }
  context.remainingNodes--;

  if (Array.isArray(value)) {
    return value.map((item) => inlineLocalRefs(item, context, seen, depth + 1));
  }

  const ref = (value as Json).$ref;
  if (typeof ref === 'string') {
    const target = resolvePointer(context.root, ref);
    if (target === undefined || seen.includes(ref) || seen.length >= MAX_REF_DEPTH) {
      return value;
    }
    return inlineLocalRefs(target, context, [...seen, ref], depth + 1);
  }

  const copy: Json = {};
  for (const [key, item] of Object.entries(value)) {
    copy[key] = inlineLocalRefs(item, context, seen, depth + 1);
  }
  return copy;
}

function operationsOf(item: unknown): Json[] {
  if (!isObject(item)) {
    return [];
  }
  return [item.subscribe, item.publish].filter(isObject);
}

/** Events of an AsyncAPI 1.x document: one per topic, named by the topic. */
function eventsFromTopics(document: Json): CatalogEvent[] {
  const context = createInlineContext(document);
  const topics = isObject(document.topics) ? document.topics : {};
  return Object.entries(topics).map(([name, topic]) => {
    const operation = operationsOf(topic)[0];
    const schema = inlineLocalRefs(operation?.payload ?? {}, context);
    return { ...splitEventName(name), schema };
  });
}

/** Events of an AsyncAPI 2.x document: one per message, named by the message `name` or else the channel. */
function eventsFromChannels(document: Json): CatalogEvent[] {
  const context = createInlineContext(document);
  const channels = isObject(document.channels) ? document.channels : {};
  const events: CatalogEvent[] = [];

  for (const [channel, item] of Object.entries(channels)) {
    for (const operation of operationsOf(item)) {
      const message = inlineLocalRefs(operation.message, context);
      const messages = isObject(message) && Array.isArray(message.oneOf) ? message.oneOf : [message];
      for (const candidate of messages.filter(isObject)) {
        const name = typeof candidate.name === 'string' && candidate.name !== '' ? candidate.name : channel.replace(/\//g, '.');
        events.push({ ...splitEventName(name), schema: candidate.payload ?? {} });
      }
    }
  }
  return events;
}

/** Derive the event catalog of an AsyncAPI 1.x or 2.x document. Duplicate type and version pairs keep the first. */
export function deriveEventCatalog(format: typeof SpecFormat.AsyncApi1 | typeof SpecFormat.AsyncApi2, document: Json): CatalogEvent[] {
  const events = format === SpecFormat.AsyncApi1 ? eventsFromTopics(document) : eventsFromChannels(document);
  return deduplicateEvents(events);
}

/** Drop later entries with the same type and version. */
export function deduplicateEvents(events: readonly CatalogEvent[]): CatalogEvent[] {
  const seen = new Set<string>();
  return events.filter((event) => {
    const key = `${event.type}\u0000${event.version}`;
    if (seen.has(key)) {
      return false;
    }
    seen.add(key);
    return true;
  });
}
