import { describe, expect, it } from "vitest";
import { DecodeError } from "../../../runtime/serde/decode-error.ts";
import { frame, unframe } from "../../../runtime/serde/wire-format.ts";

function decodeErrorOf(bytes: Buffer): DecodeError {
  try {
    unframe(bytes);
  } catch (error) {
    if (error instanceof DecodeError) return error;
    throw error;
  }
  throw new Error("unframe accepted the bytes");
}

describe("Confluent wire format", () => {
  it("frames a body behind magic byte 0 and a big-endian schema id", () => {
    const bytes = frame(0x01020304, Buffer.from("body"));
    expect([...bytes.subarray(0, 5)]).toEqual([0, 1, 2, 3, 4]);
    expect(unframe(bytes)).toEqual({ schemaId: 0x01020304, body: Buffer.from("body") });
  });

  it("keeps schema ids above 2^31 unsigned", () => {
    expect(unframe(frame(0xfffffffe, Buffer.alloc(0))).schemaId).toBe(0xfffffffe);
  });

  it("rejects a wrong magic byte", () => {
    const error = decodeErrorOf(Buffer.from([1, 0, 0, 0, 1, 2]));
    expect(error.code).toBe("BAD_MAGIC_BYTE");
    expect(error.message).toContain("0x01");
  });

  it("rejects plain JSON, which is what a wrongly configured producer sends", () => {
    expect(decodeErrorOf(Buffer.from('{"orderId":"o-1"}')).code).toBe("BAD_MAGIC_BYTE");
  });

  it("rejects values shorter than the header, and empty values", () => {
    expect(decodeErrorOf(Buffer.from([0, 0, 1])).code).toBe("TRUNCATED");
    expect(decodeErrorOf(Buffer.alloc(0)).code).toBe("TRUNCATED");
  });
});
