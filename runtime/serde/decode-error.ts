/**
 * Why a record's value could not be decoded. Every code is a permanent failure: the record goes to the DLQ with
 * the code in its `error-class` header and the message in `error-message`, and the partition moves on.
 */
import { SluiceError } from "../../topics/errors.ts";

export type DecodeErrorCode =
  | "BAD_MAGIC_BYTE" // not Confluent wire format
  | "TRUNCATED" // fewer bytes than the frame or the Avro encoding needs
  | "UNKNOWN_SCHEMA_ID" // the registry does not know the writer's schema id
  | "INVALID_AVRO" // bytes that are not a valid encoding of the writer's schema
  | "SCHEMA_MISMATCH"; // the writer's schema cannot be read as the reader's

export class DecodeError extends SluiceError {
  declare readonly code: DecodeErrorCode;
  readonly schemaId: number | undefined;
  constructor(code: DecodeErrorCode, message: string, schemaId?: number) {
    super(code, message);
    this.schemaId = schemaId;
  }
}

/** A value that does not fit the schema it is encoded with; `paths` name each offending field. */
export class EncodeError extends SluiceError {
  readonly paths: string[];
  constructor(message: string, paths: string[]) {
    super("VALUE_DOES_NOT_FIT", message);
    this.paths = paths;
  }
}
