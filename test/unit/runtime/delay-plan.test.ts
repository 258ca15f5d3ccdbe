import { describe, expect, it } from "vitest";
import { nextHop } from "../../../runtime/delay/delay-plan.ts";

describe("delay tiers", () => {
  it("takes the largest tier that does not overshoot", () => {
    expect(nextHop(30 * 60_000, 0)).toEqual({ topic: "sluice.delay.10m", hopDueAt: 600_000 });
    expect(nextHop(75_300, 1_000)).toEqual({ topic: "sluice.delay.1m", hopDueAt: 61_000 });
    expect(nextHop(2 * 3_600_000, 0)).toEqual({ topic: "sluice.delay.1h", hopDueAt: 3_600_000 });
  });

  it("sends what is under a second to the 0s tier, due at once, for the router to wait out", () => {
    expect(nextHop(300, 5)).toEqual({ topic: "sluice.delay.0s", hopDueAt: 5 });
    expect(nextHop(-50, 5)).toEqual({ topic: "sluice.delay.0s", hopDueAt: 5 });
  });

  it("cascades a long delay down through the tiers without overshooting", () => {
    let now = 0;
    const due = 2 * 3_600_000 + 25 * 60_000 + 12_345;
    const hops: string[] = [];
    while (due - now >= 1_000) {
      const hop = nextHop(due - now, now);
      hops.push(hop.topic);
      now = hop.hopDueAt;
      expect(now).toBeLessThanOrEqual(due);
    }
    expect(hops).toEqual([
      "sluice.delay.1h",
      "sluice.delay.1h",
      "sluice.delay.10m",
      "sluice.delay.10m",
      "sluice.delay.1m",
      "sluice.delay.1m",
      "sluice.delay.1m",
      "sluice.delay.1m",
      "sluice.delay.1m",
      "sluice.delay.10s",
      "sluice.delay.1s",
      "sluice.delay.1s",
    ]);
    expect(due - now).toBe(345);
  });
});
