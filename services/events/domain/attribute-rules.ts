/**
 * Value rules of the CloudEvents 1.0 type system (spec §2 "Type System", "Naming Conventions") and
 * RFC 3339 / RFC 3986 syntax checks. Pure functions, no I/O.
 */

/** Attribute and extension names: lower-case ASCII letters and digits only (CloudEvents 1.0 §2.1). */
const ATTRIBUTE_NAME = /^[a-z0-9]+$/;

/**
 * Characters a CloudEvents String must not contain: the C0 and C1 control characters and lone
 * surrogate halves (CloudEvents 1.0 "Type System", String).
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point.
const FORBIDDEN_STRING_CHARACTERS = /[\u0000-\u001F\u007F-\u009F]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** RFC 3339 §5.6 `date-time`. `T` and `Z` may be lower case (RFC 3339 §5.6, NOTE). */
const RFC3339_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:[Zz]|[+-](\d{2}):(\d{2}))$/;

/** Characters allowed anywhere in an RFC 3986 URI reference: unreserved, reserved and `%`. */
const URI_CHARACTERS = /^[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]*$/;

/** A `%` that does not start a `%XX` triplet. */
const BROKEN_PERCENT_ENCODING = /%(?![0-9A-Fa-f]{2})/;

/** RFC 3986 §3.1 scheme. */
const URI_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*$/;

/** Smallest and largest CloudEvents Integer (32-bit signed). */
const INTEGER_MIN = -2_147_483_648;
const INTEGER_MAX = 2_147_483_647;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

export function isAttributeName(name: string): boolean {
  return ATTRIBUTE_NAME.test(name);
}

/** True when `value` has no character that a CloudEvents String forbids. */
export function isCloudEventsString(value: string): boolean {
  return !FORBIDDEN_STRING_CHARACTERS.test(value);
}

/** True for a whole number that fits the CloudEvents Integer type. */
export function isCloudEventsInteger(value: number): boolean {
  return Number.isInteger(value) && value >= INTEGER_MIN && value <= INTEGER_MAX;
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/**
 * True for an RFC 3339 `date-time` with seconds and an offset (`Z` or `±hh:mm`), with every field in
 * range. Leap seconds (`:60`) are accepted, as RFC 3339 allows them.
 */
export function isRfc3339Timestamp(value: string): boolean {
  const match = RFC3339_DATE_TIME.exec(value);
  if (!match) {
    return false;
  }

  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 60) {
    return false;
  }
  const daysInMonth = month === 2 && isLeapYear(year) ? 29 : DAYS_IN_MONTH[month - 1]!;
  if (day < 1 || day > daysInMonth) {
    return false;
  }
  if (match[7] !== undefined && (Number(match[7]) > 23 || Number(match[8]) > 59)) {
    return false;
  }
  return true;
}

/** Return the scheme of a URI reference, or undefined for a relative reference. Assumes `isUriReference`. */
function schemeOf(value: string): string | undefined {
  const end = value.search(/[:/?#]/);
  return end > 0 && value[end] === ':' ? value.slice(0, end) : undefined;
}

/**
 * True for an RFC 3986 §4.1 URI reference: only URI characters, well-formed percent-encoding, at most
 * one `#`, and a valid scheme wherever a `:` comes before the first `/`, `?` or `#`.
 */
export function isUriReference(value: string): boolean {
  if (!URI_CHARACTERS.test(value) || BROKEN_PERCENT_ENCODING.test(value)) {
    return false;
  }
  if (value.indexOf('#') !== value.lastIndexOf('#')) {
    return false;
  }

  const colon = value.search(/[:/?#]/);
  if (colon >= 0 && value[colon] === ':') {
    // A relative reference cannot have a `:` in its first path segment (RFC 3986 §4.2).
    return URI_SCHEME.test(value.slice(0, colon));
  }
  return true;
}

/** True for an absolute RFC 3986 URI: a URI reference with a scheme. */
export function isAbsoluteUri(value: string): boolean {
  return isUriReference(value) && schemeOf(value) !== undefined;
}

/**
 * True when a media type declares JSON content: `*\/json` or `*\/*+json` once parameters are removed
 * (CloudEvents JSON format §3.1).
 */
export function isJsonMediaType(mediaType: string | undefined): boolean {
  if (mediaType === undefined) {
    return false;
  }
  const semicolon = mediaType.indexOf(';');
  const essence = (semicolon === -1 ? mediaType : mediaType.slice(0, semicolon)).trim().toLowerCase();
  const slash = essence.indexOf('/');
  if (slash <= 0) {
    return false;
  }
  const subtype = essence.slice(slash + 1);
  return subtype === 'json' || subtype.endsWith('+json');
}

/** Strict RFC 4648 §4 base64 with padding. The empty string encodes zero bytes. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function isBase64(value: string): boolean {
  return BASE64.test(value);
}
