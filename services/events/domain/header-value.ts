/**
 * Decoding of `ce-` header values, CloudEvents HTTP binding §3.1.3.2: undo RFC 7230 quoting, then
 * percent-decode exactly once, then decode UTF-8 and reject invalid sequences.
 */

/** Thrown when a header value cannot be decoded. The message gives the reason, and the caller adds the attribute. */
export class HeaderValueError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HeaderValueError';
  }
}

/**
 * `fatal` rejects invalid UTF-8, including overlong forms such as `%C0%A0` and encoded surrogates.
 * `ignoreBOM` keeps a leading U+FEFF, which the sender encoded on purpose.
 */
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Values that need no work: printable ASCII and spaces, without `%` or a leading `"`. */
const PLAIN_VALUE = /^[\u0020\u0021\u0023-\u0024\u0026-\u007E]*$/;

const HEX_VALUE: Readonly<Record<string, number>> = Object.fromEntries(
  [...'0123456789abcdef'].flatMap((digit, value) => [
    [digit, value],
    [digit.toUpperCase(), value],
  ]),
);

/** Undo RFC 7230 §3.2.6 quoting of a value that starts with a double quote. */
function unquote(value: string): string {
  if (value.length < 2 || !value.endsWith('"')) {
    throw new HeaderValueError('has an unterminated quoted string');
  }

  let result = '';
  for (let i = 1; i < value.length - 1; i++) {
    const char = value[i]!;
    if (char === '\\') {
      if (i + 1 >= value.length - 1) {
        throw new HeaderValueError('ends a quoted string with a lone backslash');
      }
      result += value[++i];
    } else if (char === '"') {
      throw new HeaderValueError('has a double quote inside a quoted string');
    } else {
      result += char;
    }
  }
  return result;
}

/** Percent-decode once into bytes. Node gives header values as latin1, so every character is one byte. */
function percentDecode(value: string): Uint8Array {
  const bytes = new Uint8Array(value.length);
  let length = 0;

  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code !== 0x25) {
      bytes[length++] = code & 0xff;
      continue;
    }
    const high = HEX_VALUE[value[i + 1] ?? ''];
    const low = HEX_VALUE[value[i + 2] ?? ''];
    if (high === undefined || low === undefined) {
      throw new HeaderValueError(`has an invalid percent-encoding at position ${i}: expected %XX with two hex digits`);
    }
    bytes[length++] = high * 16 + low;
    i += 2;
  }
  return bytes.subarray(0, length);
}

/**
 * Decode one `ce-` header value into the attribute's string. Lower-case hex digits are accepted. A
 * value is decoded once only, so `%2541` becomes `%41`, not `A`.
 */
export function decodeHeaderValue(raw: string): string {
  if (PLAIN_VALUE.test(raw)) {
    return raw;
  }

  const unquoted = raw.startsWith('"') ? unquote(raw) : raw;
  try {
    return STRICT_UTF8.decode(percentDecode(unquoted));
  } catch (error) {
    if (error instanceof HeaderValueError) {
      throw error;
    }
    throw new HeaderValueError('is not valid UTF-8 once percent-decoded');
  }
}
