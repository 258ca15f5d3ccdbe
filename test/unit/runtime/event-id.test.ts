import { describe, expect, it } from "vitest";
import { childEventId } from "../../../runtime/event-id.ts";

describe("derived event ids", () => {
  it("are stable per parent and position, and distinct otherwise", () => {
    const a = childEventId("parent", 0);
    expect(a).toBe(childEventId("parent", 0));
    expect(a).not.toBe(childEventId("parent", 1));
    expect(a).not.toBe(childEventId("other", 0));
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
