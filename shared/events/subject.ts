import { EVENTS_SUBJECT_PREFIX } from '../nats/names.ts';

/**
 * Subject token under which in-platform events (from `/publish`) are stored. Application names are
 * DNS-1123 labels, which cannot contain `_`, so no application can take it.
 */
export const PLATFORM_SOURCE_TOKEN = '_platform';

/** Characters kept as they are in a subject token. Everything else, including `~`, is escaped. */
const SAFE_CHARACTER = /[A-Za-z0-9_-]/;

/** A part made of safe characters only, which encodes to itself. Most event types consist of such parts. */
const SAFE_TOKEN = /^[A-Za-z0-9_-]+$/;

/**
 * Encode one dot-separated part of an event type as a NATS subject token. Unsafe characters become
 * `~XX` per UTF-8 byte (upper-case hex), and an empty part becomes a lone `~`. The mapping is
 * injective, so `system>prod` (`system~3Eprod`) and `systemprod` never share a subject.
 */
export function encodeSubjectToken(part: string): string {
  if (part === '') {
    return '~';
  }
  if (SAFE_TOKEN.test(part)) {
    return part;
  }
  let encoded = '';
  for (const char of part) {
    if (SAFE_CHARACTER.test(char)) {
      encoded += char;
      continue;
    }
    for (const byte of Buffer.from(char, 'utf8')) {
      encoded += `~${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    }
  }
  return encoded;
}

/** Reverse `encodeSubjectToken`. */
export function decodeSubjectToken(token: string): string {
  if (token === '~') {
    return '';
  }
  const bytes: number[] = [];
  for (let i = 0; i < token.length; i++) {
    if (token[i] === '~') {
      bytes.push(Number.parseInt(token.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(token.charCodeAt(i));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Encode a whole event type: each `.`-separated part becomes one subject token. */
export function encodeEventType(type: string): string {
  return type.split('.').map(encodeSubjectToken).join('.');
}

export function decodeEventType(tokens: string): string {
  return tokens.split('.').map(decodeSubjectToken).join('.');
}

/**
 * Subject of an event: `ferry.events.<app>.<encoded type>`, or `ferry.events._platform.<encoded type>`
 * for in-platform events. `application` is the authenticated application, never the CE `source`.
 */
export function eventSubject(application: string | undefined, type: string): string {
  return `${EVENTS_SUBJECT_PREFIX}.${application ?? PLATFORM_SOURCE_TOKEN}.${encodeEventType(type)}`;
}

/** Filter subject for a type from any source, including in-platform events. */
export function anySourceSubject(type: string): string {
  return `${EVENTS_SUBJECT_PREFIX}.*.${encodeEventType(type)}`;
}

/** Split a stored subject back into the application (undefined for in-platform) and the type. */
export function parseEventSubject(subject: string): { application: string | undefined; type: string } | undefined {
  const prefix = `${EVENTS_SUBJECT_PREFIX}.`;
  if (!subject.startsWith(prefix)) {
    return undefined;
  }
  const rest = subject.slice(prefix.length);
  const dot = rest.indexOf('.');
  if (dot <= 0) {
    return undefined;
  }
  const source = rest.slice(0, dot);
  return { application: source === PLATFORM_SOURCE_TOKEN ? undefined : source, type: decodeEventType(rest.slice(dot + 1)) };
}
