import { ConfigError } from '../errors/errors.ts';

/** Environment variables as read at startup. Tests pass a plain object instead of `process.env`. */
export type Env = Readonly<Record<string, string | undefined>>;

function readRaw(env: Env, name: string): string | undefined {
  const value = env[name];
  if (value === undefined) {
    return undefined;
  }
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

export function readString(env: Env, name: string, fallback: string): string {
  return readRaw(env, name) ?? fallback;
}

export function readOptionalString(env: Env, name: string): string | undefined {
  return readRaw(env, name);
}

/** Read a whole number within `[min, max]`. */
export function readInteger(env: Env, name: string, fallback: number, range: { min?: number; max?: number } = {}): number {
  const raw = readRaw(env, name);
  if (raw === undefined) {
    return fallback;
  }

  const min = range.min ?? Number.MIN_SAFE_INTEGER;
  const max = range.max ?? Number.MAX_SAFE_INTEGER;
  if (!/^-?\d+$/.test(raw)) {
    throw new ConfigError(`${name} must be a whole number, got '${raw}'`);
  }
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be between ${min} and ${max}, got '${raw}'`);
  }
  return value;
}

export function readPort(env: Env, name: string, fallback: number): number {
  return readInteger(env, name, fallback, { min: 0, max: 65535 });
}

export function readBoolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = readRaw(env, name);
  if (raw === undefined) {
    return fallback;
  }
  switch (raw.toLowerCase()) {
    case 'true':
    case '1':
    case 'yes':
      return true;
    case 'false':
    case '0':
    case 'no':
      return false;
    default:
      throw new ConfigError(`${name} must be true or false, got '${raw}'`);
  }
}

/** Read an absolute URL whose scheme is one of `protocols` (for example `['http:', 'https:']`). */
export function readUrl(env: Env, name: string, fallback: string, protocols: readonly string[]): string {
  const raw = readRaw(env, name) ?? fallback;
  let url: URL;
  try {
    url = new URL(raw);
  } catch (error) {
    throw new ConfigError(`${name} must be an absolute URL, got '${raw}'`, { cause: error });
  }
  if (!protocols.includes(url.protocol)) {
    throw new ConfigError(`${name} must use one of ${protocols.join(', ')}, got '${raw}'`);
  }
  return raw.replace(/\/+$/, '');
}

/** Read one value out of a fixed set. */
export function readChoice<T extends string>(env: Env, name: string, fallback: T, choices: readonly T[]): T {
  const raw = readRaw(env, name);
  if (raw === undefined) {
    return fallback;
  }
  if (!(choices as readonly string[]).includes(raw)) {
    throw new ConfigError(`${name} must be one of ${choices.join(', ')}, got '${raw}'`);
  }
  return raw as T;
}

/** Read a comma-separated list. Empty items are dropped. */
export function readList(env: Env, name: string, fallback: readonly string[]): readonly string[] {
  const raw = readRaw(env, name);
  if (raw === undefined) {
    return fallback;
  }
  return raw
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** Freeze a configuration object and every object inside it. */
export function deepFreeze<T>(value: T): Readonly<T> {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const key of Object.keys(value)) {
      deepFreeze((value as Record<string, unknown>)[key]);
    }
    Object.freeze(value);
  }
  return value;
}
