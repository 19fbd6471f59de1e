/**
 * A minimal reader of DER (ITU-T X.690 §10) that only checks the structure: tags, definite lengths and
 * nesting. It runs before node-forge sees untrusted bytes, so hostile input (deep nesting, lengths
 * that point past the end, indefinite lengths, trailing bytes) is rejected cheaply with a precise reason
 * instead of reaching forge's recursive pure-JS parser.
 */

/** Deepest nesting of constructed values accepted. A CSR needs 7 levels; forge itself allows 256. */
export const MAX_DER_DEPTH = 32;

/** A bit string, octet string or other primitive value is opaque here: only its extent is known. */
export type DerNode = {
  /** The identifier octet, e.g. 0x30 for SEQUENCE. */
  tag: number;
  constructed: boolean;
  /** Offset of the identifier octet. */
  start: number;
  /** Offset of the first content octet. */
  contentStart: number;
  /** Offset just past the last content octet. */
  end: number;
  children: DerNode[];
};

export const DerTag = {
  Integer: 0x02,
  BitString: 0x03,
  ObjectIdentifier: 0x06,
  Sequence: 0x30,
  /** `[0]` constructed, context-specific: the CSR attributes. */
  ContextZero: 0xa0,
} as const;

/** Error for bytes that are not well-formed DER. The message gives the reason and the byte offset. */
export class DerError extends Error {
  constructor(message: string, offset: number) {
    super(`${message} at byte ${offset}`);
    this.name = 'DerError';
  }
}

/** Parse one complete DER value that spans all of `der`. Throws `DerError`. */
export function parseDer(der: Uint8Array, maxDepth = MAX_DER_DEPTH): DerNode {
  const node = readNode(der, 0, der.length, 1, maxDepth);
  if (node.end !== der.length) {
    throw new DerError(`${der.length - node.end} trailing bytes after the value`, node.end);
  }
  return node;
}

function readLength(der: Uint8Array, offset: number, limit: number): { length: number; next: number } {
  if (offset >= limit) {
    throw new DerError('missing length', offset);
  }
  const first = der[offset]!;
  if (first < 0x80) {
    return { length: first, next: offset + 1 };
  }
  if (first === 0x80) {
    throw new DerError('indefinite length is not allowed in DER', offset);
  }

  const octets = first & 0x7f;
  if (octets > 4) {
    throw new DerError(`length of ${octets} octets is too long`, offset);
  }
  if (offset + 1 + octets > limit) {
    throw new DerError('length runs past the end', offset);
  }
  let length = 0;
  for (let i = 1; i <= octets; i++) {
    length = length * 256 + der[offset + i]!;
  }
  return { length, next: offset + 1 + octets };
}

function readNode(der: Uint8Array, start: number, limit: number, depth: number, maxDepth: number): DerNode {
  if (start >= limit) {
    throw new DerError('missing value', start);
  }
  if (depth > maxDepth) {
    throw new DerError(`nesting is deeper than ${maxDepth} levels`, start);
  }
  const tag = der[start]!;
  if ((tag & 0x1f) === 0x1f) {
    throw new DerError('high tag numbers are not supported', start);
  }

  const { length, next: contentStart } = readLength(der, start + 1, limit);
  const end = contentStart + length;
  if (end > limit) {
    throw new DerError(`value of ${length} bytes runs past the end of its container`, start);
  }

  const constructed = (tag & 0x20) !== 0;
  const children: DerNode[] = [];
  if (constructed) {
    for (let offset = contentStart; offset < end; ) {
      const child = readNode(der, offset, end, depth + 1, maxDepth);
      children.push(child);
      offset = child.end;
    }
  }
  return { tag, constructed, start, contentStart, end, children };
}
