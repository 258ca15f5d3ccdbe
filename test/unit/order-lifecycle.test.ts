import { describe, expect, it } from "vitest";
import { transition } from "../../processors/order-state/order-lifecycle.ts";
import { childEventId } from "../../runtime/event-id.ts";

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

describe("derived event ids", () => {
  it("are stable per parent and position, and distinct otherwise", () => {
    const a = childEventId("parent", 0);
    expect(a).toBe(childEventId("parent", 0));
    expect(a).not.toBe(childEventId("parent", 1));
    expect(a).not.toBe(childEventId("other", 0));
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
