/**
 * Every error Sluice raises on purpose carries a stable `code`, so callers branch on codes, never on messages.
 * `UsageError` is a user's mistake (bad argument, bad config): the CLI prints its message in one line.
 */
export class SluiceError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

export class UsageError extends SluiceError {
  constructor(message: string) {
    super("USAGE", message);
  }
}
