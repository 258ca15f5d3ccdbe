import avro from "avsc";
import { describe, expect, it } from "vitest";
import { compatibilityProblems, readProblems } from "../../schemas/compatibility.ts";

const record = (fields: unknown[]) =>
  avro.Type.forSchema({ type: "record", name: "Order", namespace: "t", fields } as avro.Schema);

const fieldsOf = (type: avro.Type) => (type.schema() as { fields: unknown[] }).fields;

const v1 = record([
  { name: "orderId", type: "string" },
  { name: "address", type: { type: "record", name: "Address", fields: [{ name: "zip", type: "int" }] } },
]);

describe("schema compatibility", () => {
  it("names a new field without a default as breaking backward compatibility", () => {
    const v2 = record([...fieldsOf(v1), { name: "couponCode", type: "string" }]);
    expect(compatibilityProblems("BACKWARD", v2, [v1])).toEqual([
      "backward: new schema cannot read old data: t.Order.couponCode: has no default and old data lacks it",
    ]);
  });

  it("accepts a new field with a default", () => {
    const v2 = record([...fieldsOf(v1), { name: "couponCode", type: "string", default: "" }]);
    expect(compatibilityProblems("BACKWARD", v2, [v1])).toEqual([]);
  });

  it("points into nested records at the field whose type changed", () => {
    const v2 = record([
      { name: "orderId", type: "string" },
      { name: "address", type: { type: "record", name: "Address", fields: [{ name: "zip", type: "string" }] } },
    ]);
    const problems = readProblems(v2, v1);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^t\.Order\.address\.zip: /);
  });

  it("allows type promotions the Avro spec allows (int to long) backward but not forward", () => {
    const v2 = record([
      { name: "orderId", type: "string" },
      { name: "address", type: { type: "record", name: "Address", fields: [{ name: "zip", type: "long" }] } },
    ]);
    expect(compatibilityProblems("BACKWARD", v2, [v1])).toEqual([]);
    expect(compatibilityProblems("FULL", v2, [v1])).toEqual([
      expect.stringMatching(/^forward: old schema cannot read new data: t\.Order\.address\.zip: /),
    ]);
  });

  it("treats removing a default-less field as a forward break only", () => {
    const v2 = record([{ name: "orderId", type: "string" }]);
    expect(compatibilityProblems("BACKWARD", v2, [v1])).toEqual([]);
    expect(compatibilityProblems("FORWARD", v2, [v1])).toEqual([
      "forward: old schema cannot read new data: t.Order.address: has no default and old data lacks it",
    ]);
  });

  it("compares with every version only when transitive", () => {
    const v2 = record([{ name: "orderId", type: "string" }]); // drops address
    const v3 = record([
      { name: "orderId", type: "string" },
      { name: "address", type: { type: "record", name: "Address", fields: [{ name: "zip", type: "int" }] } },
    ]); // adds it back without a default: v2's data lacks it
    expect(compatibilityProblems("BACKWARD", v3, [v1, v2])).toHaveLength(1);
    expect(compatibilityProblems("BACKWARD_TRANSITIVE", v3, [v1, v2])).toHaveLength(1);
    const v3WithDefault = record([
      { name: "orderId", type: "string" },
      { name: "note", type: "string", default: "" },
    ]);
    expect(compatibilityProblems("FORWARD", v3WithDefault, [v1, v2])).toEqual([]);
    expect(compatibilityProblems("FORWARD_TRANSITIVE", v3WithDefault, [v1, v2])).toHaveLength(1);
  });

  it("reports enum symbols old readers do not know", () => {
    const e1 = avro.Type.forSchema({ type: "enum", name: "State", symbols: ["A", "B"] });
    const e2 = avro.Type.forSchema({ type: "enum", name: "State", symbols: ["A", "B", "C"] });
    expect(compatibilityProblems("BACKWARD", e2, [e1])).toEqual([]);
    expect(compatibilityProblems("FORWARD", e2, [e1])).toHaveLength(1);
  });

  it("checks nothing under NONE or for a new subject", () => {
    const v2 = record([{ name: "other", type: "int" }]);
    expect(compatibilityProblems("NONE", v2, [v1])).toEqual([]);
    expect(compatibilityProblems("FULL_TRANSITIVE", v2, [])).toEqual([]);
  });
});
