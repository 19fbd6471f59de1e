/**
 * Ferry's error hierarchy. Every failure that reaches a caller is a `FerryError` with a stable,
 * machine-readable `code`. The HTTP layer maps codes to statuses in `errors/http-status.ts`, so the
 * domain code never deals with HTTP.
 */
export const ErrorCode = {
  Config: 'ERR_CONFIG',
  Input: 'ERR_INPUT',
  Unauthenticated: 'ERR_UNAUTHENTICATED',
  Forbidden: 'ERR_FORBIDDEN',
  NotFound: 'ERR_NOT_FOUND',
  Conflict: 'ERR_CONFLICT',
  PayloadTooLarge: 'ERR_PAYLOAD_TOO_LARGE',
  UnsupportedMediaType: 'ERR_UNSUPPORTED_MEDIA_TYPE',
  Upstream: 'ERR_UPSTREAM',
  UpstreamTimeout: 'ERR_UPSTREAM_TIMEOUT',
  Unavailable: 'ERR_UNAVAILABLE',
  StorageFull: 'ERR_STORAGE_FULL',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class FerryError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** An invalid configuration value. Startup stops with this message. */
export class ConfigError extends FerryError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.Config, message, options);
  }
}

/** The request is malformed or fails validation. */
export class InputError extends FerryError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.Input, message, options);
  }
}

/** The caller did not prove an identity: no credentials, or credentials that do not verify. */
export class UnauthenticatedError extends FerryError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.Unauthenticated, message, options);
  }
}

/** The caller's identity is known but may not perform the request. */
export class ForbiddenError extends FerryError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.Forbidden, message, options);
  }
}

export class NotFoundError extends FerryError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.NotFound, message, options);
  }
}

/** The request conflicts with stored state: a duplicate name, or a concurrent update. */
export class ConflictError extends FerryError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.Conflict, message, options);
  }
}

export class PayloadTooLargeError extends FerryError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.PayloadTooLarge, message, options);
  }
}

export class UnsupportedMediaTypeError extends FerryError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.UnsupportedMediaType, message, options);
  }
}

/** A system that Ferry called (spec URL, token endpoint, target API) failed or returned an invalid response. */
export class UpstreamError extends FerryError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.Upstream, message, options);
  }
}

/** A system that Ferry called did not respond within the timeout. */
export class UpstreamTimeoutError extends FerryError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.UpstreamTimeout, message, options);
  }
}

/** A dependency of Ferry itself (NATS, JetStream) is unavailable. The caller should retry later. */
export class UnavailableError extends FerryError {
  /** Seconds the caller should wait before retrying, sent as `Retry-After`. */
  readonly retryAfterSeconds: number;

  constructor(message: string, options?: ErrorOptions & { retryAfterSeconds?: number }) {
    super(ErrorCode.Unavailable, message, options);
    this.retryAfterSeconds = options?.retryAfterSeconds ?? 1;
  }
}

/** The event store has reached its configured limits. */
export class StorageFullError extends FerryError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.StorageFull, message, options);
  }
}

export function isFerryError(value: unknown): value is FerryError {
  return value instanceof FerryError;
}
