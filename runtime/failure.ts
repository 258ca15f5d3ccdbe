/**
 * What a handler's failure means. A `PermanentError` (a `ValidationError`, any decode or encode error, a database
 * error that no retry can fix) goes straight to the DLQ; anything else is retryable and moves through the group's
 * retry tiers first.
 */
import pg from "pg";
import { type ErrorCode, SluiceError } from "../topics/errors.ts";
import { DecodeError, EncodeError } from "./serde/decode-error.ts";

/**
 * A failure a handler (or the runtime, for a record) gives its verdict on. Its code is the record's `error-class`:
 * one of Sluice's (ERROR_CODES) or a team's own, such as INVALID_TRANSITION.
 */
export abstract class RecordFailure extends Error {
  readonly code: string;
  constructor(code: ErrorCode | (string & {}), message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

export class PermanentError extends RecordFailure {
  constructor(message: string, code: ErrorCode | (string & {}) = "PERMANENT", options?: ErrorOptions) {
    super(code, message, options);
  }
}

export class RetryableError extends RecordFailure {
  constructor(message: string, code: ErrorCode | (string & {}) = "RETRYABLE", options?: ErrorOptions) {
    super(code, message, options);
  }
}

/**
 * A dependency the handler needs is out of reach (a service answering 503, a pool that cannot connect): not the
 * record's fault, so it waits in place, its partition paused, until the dependency is back (see `isOutage`).
 */
export class UnavailableError extends RetryableError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, "UNAVAILABLE", options);
  }
}

/** A value its schema allows but the business cannot have (a quantity of zero, a negative amount). */
export class ValidationError extends PermanentError {
  constructor(message: string) {
    super(message, "VALIDATION");
  }
}

export interface FailureClass {
  permanent: boolean;
  /** The `error-class` header: a typed error's code, `PG_<SQLSTATE>`, a system error's code, else its name. */
  errorClass: string;
  /** The `error-message` header, at most 1,000 characters. */
  errorMessage: string;
}

/**
 * PostgreSQL errors by SQLSTATE class (its first two characters). Data exceptions (22) and integrity constraint
 * violations (23) fail the same way every time; connection problems (08), serialization failures and deadlocks
 * (40), insufficient resources (53) and operator intervention (57) pass. Other classes are retried too: a
 * missing table or permission may be fixed while the record waits in a tier.
 */
const PERMANENT_SQLSTATE_CLASSES = new Set(["22", "23"]);

const MAX_MESSAGE_CHARS = 1_000;

export function classify(error: unknown): FailureClass {
  const message = error instanceof Error ? error.message : String(error);
  const errorMessage = message.length > MAX_MESSAGE_CHARS ? `${message.slice(0, MAX_MESSAGE_CHARS)}…` : message;
  if (error instanceof pg.DatabaseError && error.code) {
    return {
      permanent: PERMANENT_SQLSTATE_CLASSES.has(error.code.slice(0, 2)),
      errorClass: `PG_${error.code}`,
      errorMessage,
    };
  }
  const permanent = error instanceof PermanentError || error instanceof DecodeError || error instanceof EncodeError;
  return { permanent, errorClass: errorClassOf(error), errorMessage };
}

function errorClassOf(error: unknown): string {
  if (error instanceof SluiceError || error instanceof RecordFailure) return error.code;
  // A system error (ECONNREFUSED, ETIMEDOUT, ...) says more by its code than by its name.
  const code = (error as { code?: unknown } | null)?.code;
  if (error instanceof Error && typeof code === "string" && /^E[A-Z_]+$/.test(code)) return code;
  if (error instanceof Error) return error.name;
  return typeof error;
}

/** System errors of a connection that failed or broke: the other side is down or out of reach. */
const OUTAGE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
  "EAI_AGAIN",
  "REGISTRY_UNAVAILABLE",
  "UNAVAILABLE",
]);

/** What pg and ioredis throw, without a code, when their server went away or never answered. */
const OUTAGE_MESSAGES =
  /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection is closed|Reached the max retries per request limit|Stream isn't writeable)/;

/**
 * Whether a failure is a dependency's outage rather than the record's: a connection refused, reset or timed out
 * (PostgreSQL, Redis, the schema registry, an HTTP service), PostgreSQL's connection exceptions (SQLSTATE class 08)
 * and shutdowns (57P01-57P03), an `UnavailableError`. Every record would fail the same way, so a record that meets
 * one waits in place (its partition paused, with backoff) instead of spending its retry tiers on the way to the DLQ.
 * Looks through `cause`s: a wrapped outage is one too.
 */
export function isOutage(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof pg.DatabaseError) {
      const code = e.code ?? "";
      if (code.startsWith("08") || ["57P01", "57P02", "57P03"].includes(code)) return true;
      continue;
    }
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && OUTAGE_CODES.has(code)) return true;
    if (e.name === "MaxRetriesPerRequestError" || OUTAGE_MESSAGES.test(e.message)) return true;
    if (e instanceof AggregateError && e.errors.some(isOutage)) return true;
  }
  return false;
}
