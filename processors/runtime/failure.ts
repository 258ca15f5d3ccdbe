/**
 * What a handler's failure means. A `PermanentError` (and any decode or validation error) goes straight to the
 * DLQ; anything else is retryable and moves through the group's retry tiers first.
 */
import { SluiceError } from "./errors.ts";
import { DecodeError, EncodeError } from "./serde/decode-error.ts";

export class PermanentError extends SluiceError {
  constructor(message: string, code = "PERMANENT", options?: ErrorOptions) {
    super(code, message, options);
  }
}

export class RetryableError extends SluiceError {
  constructor(message: string, code = "RETRYABLE", options?: ErrorOptions) {
    super(code, message, options);
  }
}

export function isPermanent(error: unknown): boolean {
  return error instanceof PermanentError || error instanceof DecodeError || error instanceof EncodeError;
}

/** The `error-class` header: a typed error's code, else the error's name. */
export function errorClass(error: unknown): string {
  if (error instanceof SluiceError) return error.code;
  if (error instanceof Error) return error.name;
  return typeof error;
}

const MAX_MESSAGE_BYTES = 1_000;

export function errorMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.length > MAX_MESSAGE_BYTES ? `${message.slice(0, MAX_MESSAGE_BYTES)}…` : message;
}
