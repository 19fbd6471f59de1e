/**
 * Locating the raw text of JSON values inside a document that `JSON.parse` has already accepted, so
 * event data can be stored byte for byte: `JSON.stringify(JSON.parse(text))` turns `1.50` into `1.5`
 * and rounds integers above 2^53.
 *
 * The scanner trusts that the text is valid JSON and only skips strings and nesting, so it must never
 * see text that `JSON.parse` rejected.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

function skipWhitespace(text: string, index: number): number {
  let i = index;
  while (i < text.length) {
    const code = text.charCodeAt(i);
    if (code !== 0x20 && code !== 0x0a && code !== 0x0d && code !== 0x09) {
      break;
    }
    i++;
  }
  return i;
}

/** Return the index just after the string that starts at `index` (an opening quote). */
function skipString(text: string, index: number): number {
  let i = index + 1;
  while (i < text.length) {
    const code = text.charCodeAt(i);
    if (code === BACKSLASH) {
      i += 2;
      continue;
    }
    i++;
    if (code === QUOTE) {
      break;
    }
  }
  return i;
}

/** Return the index just after the value that starts at `index`. */
function skipValue(text: string, index: number): number {
  const first = text.charCodeAt(index);
  if (first === QUOTE) {
    return skipString(text, index);
  }

  if (first === OPEN_BRACE || first === OPEN_BRACKET) {
    let depth = 0;
    let i = index;
    while (i < text.length) {
      const code = text.charCodeAt(i);
      if (code === QUOTE) {
        i = skipString(text, i);
        continue;
      }
      i++;
      if (code === OPEN_BRACE || code === OPEN_BRACKET) {
        depth++;
      } else if ((code === CLOSE_BRACE || code === CLOSE_BRACKET) && --depth === 0) {
        break;
      }
    }
    return i;
  }

  // A number, true, false or null runs until a delimiter or whitespace.
  let i = index;
  while (i < text.length) {
    const code = text.charCodeAt(i);
    if (code === COMMA || code === CLOSE_BRACE || code === CLOSE_BRACKET || code <= 0x20) {
      break;
    }
    i++;
  }
  return i;
}

/** Return the index of the first non-whitespace character, where the document's top-level value starts. */
export function valueStart(text: string): number {
  return skipWhitespace(text, 0);
}

/**
 * Return the raw text of member `name` of the object that starts at `objectStart`, or undefined when
 * it has no such member. Like `JSON.parse`, a repeated member name yields its last value.
 */
export function rawMemberText(text: string, objectStart: number, name: string): string | undefined {
  let found: string | undefined;
  let i = skipWhitespace(text, objectStart + 1);

  while (i < text.length && text.charCodeAt(i) !== CLOSE_BRACE) {
    const keyEnd = skipString(text, i);
    const key = JSON.parse(text.slice(i, keyEnd)) as string;
    i = skipWhitespace(text, keyEnd);
    if (text.charCodeAt(i) !== COLON) {
      return found;
    }

    const start = skipWhitespace(text, i + 1);
    const end = skipValue(text, start);
    if (key === name) {
      found = text.slice(start, end);
    }
    i = skipWhitespace(text, end);
    if (text.charCodeAt(i) === COMMA) {
      i = skipWhitespace(text, i + 1);
    }
  }
  return found;
}

/** Return the start index of each element of the array that starts at `arrayStart`. */
export function arrayElementStarts(text: string, arrayStart: number): number[] {
  const starts: number[] = [];
  let i = skipWhitespace(text, arrayStart + 1);

  while (i < text.length && text.charCodeAt(i) !== CLOSE_BRACKET) {
    starts.push(i);
    i = skipWhitespace(text, skipValue(text, i));
    if (text.charCodeAt(i) === COMMA) {
      i = skipWhitespace(text, i + 1);
    }
  }
  return starts;
}
