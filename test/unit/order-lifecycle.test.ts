import { describe, expect, it } from "vitest";
import { transition } from "../../processors/order-state/order-lifecycle.ts";

describe("order lifecycle", () => {
  it("applies each next state in order", () => {
    expect(transition(undefined, "CREATED")).toBe("apply");
    expect(transition("CREATED", "PAID")).toBe("apply");
    expect(transition("PAID", "SHIPPED")).toBe("apply");
    expect(transition("SHIPPED", "COMPLETED")).toBe("apply");
    expect(transition("CREATED", "CANCELLED")).toBe("apply");
  });

  it("waits for a state that arrives before its predecessor", () => {
    expect(transition(undefined, "PAID")).toBe("early");
    expect(transition("CREATED", "SHIPPED")).toBe("early");
  });

  it("ignores repeated and older states", () => {
    expect(transition("PAID", "PAID")).toBe("duplicate");
    expect(transition("SHIPPED", "CREATED")).toBe("duplicate");
  });

  it("refuses what the lifecycle forbids", () => {
    expect(transition("COMPLETED", "CANCELLED")).toBe("invalid");
    expect(transition("CANCELLED", "PAID")).toBe("invalid");
  });
});
