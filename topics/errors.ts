/**
 * Every error Sluice raises on purpose, by code: one table, one meaning each, so callers branch on codes and never
 * on messages. It sits in the bottom layer so that topics, schemas, the runtime and the CLI raise the same typed
 * errors. A handler's own failures (PermanentError, RetryableError) may carry a team's codes beside these.
 */
export const ERROR_CODES = {
  // A user's or operator's mistake: the CLI prints one line and exits 2.
  USAGE: "a command-line argument is wrong",
  CONFIG_INVALID: "an environment variable or a processor definition holds a value Sluice cannot use",
  NODE_TOO_OLD: "the Node.js running Sluice is older than it needs",

  // Topics and schemas as code.
  TOPIC_UNKNOWN: "a topic is not in the catalog",
  SCHEMA_INVALID: "a schema file is not JSON, not Avro, or not a named record",
  SCHEMA_DUPLICATE: "two schema files define the same record",
  SCHEMA_MISSING: "a topic names a value schema that no schema file defines",
  SCHEMA_NOT_REGISTERED: "a value is written with a schema its subject does not have",
  REGISTRY_UNAVAILABLE: "the schema registry cannot be reached",
  REGISTRY_REJECTED: "the schema registry refused a request",

  // A record that cannot be read or written: permanent, it goes to the DLQ (the code is its error-class).
  BAD_MAGIC_BYTE: "a value is not in the Confluent wire format",
  TRUNCATED: "a value has fewer bytes than its frame or its Avro encoding needs",
  UNKNOWN_SCHEMA_ID: "the registry does not know the writer's schema id",
  INVALID_AVRO: "a value's bytes are not a valid encoding of the writer's schema",
  SCHEMA_MISMATCH: "the writer's schema cannot be read as the reader's",
  VALUE_DOES_NOT_FIT: "a value does not fit the schema it is written with",
  MISSING_VALUE: "a record has no value",
  MISSING_HEADER: "a record has no event-id header (its idempotency key)",
  VALUE_TOO_LARGE: "a value is larger than the processor accepts",
  OUTPUT_TOO_LARGE: "a record a handler writes is larger than its topic accepts",
  OUTPUT_UNDECLARED: "a handler writes to a topic its processor does not declare among its outputs",
  VALIDATION: "a value its schema allows but the business cannot have",
  PERMANENT: "a handler failed in a way no retry can fix",

  // A failure that passes: the record moves through its group's retry tiers.
  RETRYABLE: "a handler failed in a way a later attempt may not",
  HANDLER_TIMEOUT: "a handler did not finish within its processor's handler timeout",
  SINK_WRITE_TIMEOUT: "a sink's batch write did not finish within its write timeout (the batch is written again)",
  SINK_UNAVAILABLE: "a sink's external system refused or failed a write in a way a later attempt may not",
  SINK_REJECTED: "a sink's external system rejected a record for good",
  SINK_PARTITION_REVOKED: "a record's partition was revoked before a staged sink took it (its new owner does)",
  SINK_STAGED_FAILURES: "a staged sink's write returned failures: a staged sink takes every record or throws",
  CONFIG_VERSION_CONFLICT: "a config write expected another version than the key has (someone changed it first)",
  CONFIG_VERSION_UNKNOWN: "a config rollback named a version the key never had",
  ARCHIVE_CORRUPT: "an archive file or its manifest is not what the archive sink writes",
  SIDE_EFFECT_RUNNING: "a ctx.once side effect of the same key is running elsewhere (or its holder died)",

  // The runtime and the local stack.
  LEDGER_MISSING: "a handler uses ctx.once, or needs PostgreSQL, without the ledger it needs",
  NOT_STARTED: "a processor, router or driver was used before it started",
  COMMIT_UNKNOWN: "a transaction's commit failed and could not be aborted: it may or may not have committed",
  READ_TIMEOUT: "partitions could not be read to their end in time",
  STACK_UNREACHABLE: "a component of the stack does not answer",
  STACK_START_FAILED: "a component of the local stack did not start",
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class SluiceError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A user's mistake (a bad argument): the CLI prints its message in one line and exits 2. */
export class UsageError extends SluiceError {
  constructor(message: string) {
    super("USAGE", message);
  }
}

/** A bad environment variable or definition, named in the message: one line and exit 2, as a usage error. */
export class ConfigError extends SluiceError {
  constructor(message: string) {
    super("CONFIG_INVALID", message);
  }
}
