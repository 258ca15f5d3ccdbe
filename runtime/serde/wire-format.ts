/**
 * The Confluent wire format: magic byte 0, the schema id as a 4-byte big-endian integer, then the Avro body.
 */
import { DecodeError } from "./decode-error.ts";

export const MAGIC_BYTE = 0;
export const HEADER_BYTES = 5;

export function frame(schemaId: number, body: Buffer): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt8(MAGIC_BYTE, 0);
  header.writeUInt32BE(schemaId, 1);
  return Buffer.concat([header, body]);
}

export function unframe(bytes: Buffer): { schemaId: number; body: Buffer } {
  if (bytes.length === 0) throw new DecodeError("TRUNCATED", "empty value: expected a magic byte and a schema id");
  if (bytes[0] !== MAGIC_BYTE) {
    throw new DecodeError(
      "BAD_MAGIC_BYTE",
      `magic byte is 0x${bytes[0]?.toString(16).padStart(2, "0")}, expected 0x00`,
    );
  }
  if (bytes.length < HEADER_BYTES) {
    throw new DecodeError("TRUNCATED", `value has ${bytes.length} bytes, fewer than the ${HEADER_BYTES}-byte header`);
  }
  return { schemaId: bytes.readUInt32BE(1), body: bytes.subarray(HEADER_BYTES) };
}
