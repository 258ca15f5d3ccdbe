import { describe, expect, it } from "vitest";
import { avroType } from "../../schemas/avro-type.ts";
import { generateTypes } from "../../schemas/codegen.ts";
import { loadSchemaFiles } from "../../schemas/schema-files.ts";
import { avroLong } from "../support/foreign-avro.ts";

// Besides the ends of the range: where a varint grows from 7 to 8 bytes (2^48) and where a number stops being
// able to hold the zigzag exactly (2^52), each from both sides.
const EDGES = [
  ...[0n, 2n ** 48n - 1n, 2n ** 48n, 2n ** 52n - 1n, 2n ** 52n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 62n, 2n ** 63n - 1n],
  ...[-1n, -(2n ** 48n), -(2n ** 48n) - 1n, -(2n ** 52n), -(2n ** 52n) - 1n, -(2n ** 53n) + 1n, -(2n ** 63n)],
];

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
      const bytes = Buffer.concat([avroLong(value), avroLong(value)]);
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
    for (const value of EDGES.filter((edge) => Number.isSafeInteger(Number(edge)))) {
      expect(record.toBuffer({ cents: Number(value), at: 0 }), String(value)).toEqual(
        record.toBuffer({ cents: value, at: 0n }),
      );
    }
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
