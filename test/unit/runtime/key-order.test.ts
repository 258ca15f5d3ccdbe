import { describe, expect, it } from "vitest";
import { KeyOrder } from "../../../runtime/runner/policies/key-order.ts";

describe("key-ordered retry bookkeeping", () => {
  it("lets keys with nothing in the tiers through", () => {
    expect(new KeyOrder().onInput("k")).toEqual({ action: "process" });
  });

  it("parks a later record of a failing key in the lowest tier that holds the key", () => {
    const order = new KeyOrder();
    order.added("k", 0); // r1 failed into tier 0
    expect(order.onInput("k")).toEqual({ action: "park", tierIndex: 0 });
    expect(order.onInput("other")).toEqual({ action: "process" });
  });

  it("keeps a parked record behind an older one that moved up a tier", () => {
    const order = new KeyOrder();
    order.added("k", 0); // r1 fails into tier 0
    order.added("k", 0); // r2 parked behind it in tier 0
    expect(order.onRetry("k", 0)).toEqual({ action: "process" }); // r1 is read first: it is the oldest
    order.added("k", order.floorTier("k") + 1); // r1 fails again, into tier 1
    expect(order.onInput("k")).toEqual({ action: "park", tierIndex: 0 }); // r3 parks behind r2
    expect(order.onRetry("k", 0)).toEqual({ action: "park", tierIndex: 1 }); // r2 follows r1 up
    order.added("k", 1);
    expect(order.onRetry("k", 0)).toEqual({ action: "park", tierIndex: 1 }); // r3 too
    order.added("k", 1);
    expect(order.onRetry("k", 1)).toEqual({ action: "process" }); // r1 succeeds
    expect(order.onRetry("k", 1)).toEqual({ action: "process" }); // then r2
    expect(order.onRetry("k", 1)).toEqual({ action: "process" }); // then r3
    expect(order.onInput("k")).toEqual({ action: "process" }); // and the key is free again
  });

  it("never lets a failing record fall below older records of its key", () => {
    const order = new KeyOrder();
    order.added("k", 2);
    expect(order.floorTier("k")).toBe(2);
    expect(order.floorTier("free")).toBe(0);
  });

  it("goes back to a snapshot when the records since are read again", () => {
    const order = new KeyOrder();
    const clean = order.snapshot("k");
    order.added("k", 0); // r1 fails past the end of a cut batch ...
    expect(order.onInput("k")).toEqual({ action: "park", tierIndex: 0 });
    order.restore("k", clean); // ... so it will be read again, and its failure never happened
    expect(order.onInput("k")).toEqual({ action: "process" });
    order.added("k", 1);
    const held = order.snapshot("k");
    order.added("k", 1);
    order.restore("k", held);
    expect(order.onRetry("k", 1)).toEqual({ action: "process" });
    expect(order.onInput("k")).toEqual({ action: "process" });
  });
});
