import { describe, expect, it } from "vitest";
import { avroType } from "../../schemas/avro-type.ts";
import { generateTypes } from "../../schemas/codegen.ts";
import { loadSchemaFiles } from "../../schemas/schema-files.ts";

/** Avro's long as another language's library writes it: zigzag, then 7 bits a byte, low bits first. */
function javaLong(value: bigint): Buffer {
  let n = BigInt.asUintN(64, (value << 1n) ^ (value >> 63n));
  const bytes: number[] = [];
  do {
    bytes.push(Number(n & 0x7fn) | (n > 0x7fn ? 0x80 : 0));
    n >>= 7n;
  } while (n > 0n);
  return Buffer.from(bytes);
}

const EDGES = [0n, 1n, -1n, 2n ** 53n - 1n, -(2n ** 53n) + 1n, 2n ** 53n, 2n ** 62n, 2n ** 63n - 1n, -(2n ** 63n)];

describe("Avro longs", () => {
  const record = avroType({
    type: "record",
    name: "Money",
    namespace: "t",
    fields: [
      { name: "cents", type: "long" },
      { name: "at", type: { type: "long", logicalType: "timestamp-millis" } },
    ],
  });

  it("decode every 64-bit value exactly and encode it back to the same bytes", () => {
    for (const value of EDGES) {
      const bytes = Buffer.concat([javaLong(value), javaLong(value)]);
      const decoded = record.fromBuffer(bytes) as { cents: bigint; at: bigint };
      expect(decoded, String(value)).toEqual({ cents: value, at: value });
      expect(record.toBuffer(decoded), String(value)).toEqual(bytes);
    }
  });

  it("take a safe integer number when writing, and refuse one that lost precision", () => {
    expect(record.fromBuffer(record.toBuffer({ cents: 250, at: 1_700_000_000_000 }))).toEqual({
      cents: 250n,
      at: 1_700_000_000_000n,
    });
    expect(record.isValid({ cents: 2 ** 60, at: 0 })).toBe(false);
    expect(record.isValid({ cents: 2n ** 64n, at: 0 })).toBe(false);
  });

  it("are bigint in the generated types", () => {
    const generated = generateTypes(loadSchemaFiles(), []);
    expect(generated).toContain("  totalCents: bigint;");
    expect(generated).toContain("  createdAt: bigint;");
    expect(generated).toContain("  quantity: number;");
  });
});
