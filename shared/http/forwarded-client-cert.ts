import { InputError } from '../errors/errors.ts';

/** One element of an Envoy `X-Forwarded-Client-Cert` header: `Hash=…;Cert="…";Subject="…";URI=…`. */
export type ForwardedClientCert = Readonly<Record<string, string>>;

/**
 * Split `text` on `separator`, except inside double quotes. Envoy quotes values that contain `,`,
 * `;` or `=`, such as `Subject="CN=a,O=b"`, and escapes a literal quote as `\"`.
 */
function splitOutsideQuotes(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;

  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === '\\' && quoted && i + 1 < text.length) {
      current += char + text[i + 1];
      i++;
      continue;
    }
    if (char === '"') {
      quoted = !quoted;
    }
    if (char === separator && !quoted) {
      parts.push(current);
      current = '';
      continue;
    }
    current += char;
  }
  if (quoted) {
    throw new InputError('X-Forwarded-Client-Cert has an unterminated quoted value');
  }
  parts.push(current);
  return parts;
}

function unquote(value: string): string {
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
    return value.slice(1, -1).replace(/\\(.)/g, '$1');
  }
  return value;
}

/**
 * Parse an Envoy `X-Forwarded-Client-Cert` header into its elements, oldest proxy first. Keys are
 * matched case-insensitively and returned in their canonical Envoy spelling (`By`, `Hash`, `Cert`,
 * `Chain`, `Subject`, `URI`, `DNS`).
 */
export function parseForwardedClientCert(header: string): ForwardedClientCert[] {
  const canonical: Record<string, string> = { by: 'By', hash: 'Hash', cert: 'Cert', chain: 'Chain', subject: 'Subject', uri: 'URI', dns: 'DNS' };

  return splitOutsideQuotes(header, ',')
    .map((element) => element.trim())
    .filter((element) => element !== '')
    .map((element) => {
      const fields: Record<string, string> = {};
      for (const pair of splitOutsideQuotes(element, ';')) {
        const at = pair.indexOf('=');
        if (at <= 0) {
          throw new InputError(`X-Forwarded-Client-Cert has a malformed field '${pair.slice(0, 40)}'`);
        }
        const rawKey = pair.slice(0, at).trim();
        const key = canonical[rawKey.toLowerCase()] ?? rawKey;
        fields[key] = unquote(pair.slice(at + 1).trim());
      }
      return Object.freeze(fields);
    });
}

/**
 * Parse an RFC 4514 distinguished name such as `CN=commerce,O=Ferry,C=DE` into attributes. Escaped
 * characters (`\,`) are kept. When an attribute repeats, the last value wins.
 */
export function parseDistinguishedName(dn: string): Record<string, string> {
  const attributes: Record<string, string> = {};
  let current = '';
  const parts: string[] = [];

  for (let i = 0; i < dn.length; i++) {
    const char = dn[i];
    if (char === '\\' && i + 1 < dn.length) {
      current += dn[i + 1];
      i++;
      continue;
    }
    if (char === ',' || char === '+') {
      parts.push(current);
      current = '';
      continue;
    }
    current += char;
  }
  parts.push(current);

  for (const part of parts) {
    const at = part.indexOf('=');
    if (at > 0) {
      attributes[part.slice(0, at).trim().toUpperCase()] = part.slice(at + 1).trim();
    }
  }
  return attributes;
}
