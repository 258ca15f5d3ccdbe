import { describe, expect, it } from "vitest";
import { validOrder } from "../../processors/order-rules.ts";
import { ValidationError } from "../../runtime/index.ts";
import type { OrderCreated } from "../../schemas/types.generated.ts";

const order: OrderCreated = {
  orderId: "o-1",
  userId: "u-1",
  items: [{ sku: "sku-mug", quantity: 2, unitPriceCents: 1_250n }],
  totalCents: 2_500n,
  currency: "EUR",
  createdAt: 1_700_000_000_000n,
};

describe("order rules", () => {
  it("let a possible order through", () => {
    expect(validOrder(order)).toBe(order);
  });

  it.each([
    ["a negative quantity", { items: [{ sku: "s", quantity: -1, unitPriceCents: 1n }] }, "quantity is -1"],
    ["a quantity of zero", { items: [{ sku: "s", quantity: 0, unitPriceCents: 1n }] }, "quantity is 0"],
    ["no items", { items: [] }, "items is empty"],
    ["a negative total", { totalCents: -5n }, "totalCents is negative"],
    ["a negative price", { items: [{ sku: "s", quantity: 1, unitPriceCents: -1n }] }, "unitPriceCents is negative"],
    ["a creation time past any date", { createdAt: 2n ** 62n }, "is not a time"],
  ])("refuse %s as a permanent VALIDATION failure", (_, change, problem) => {
    const error = (() => {
      try {
        validOrder({ ...order, ...change });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).code).toBe("VALIDATION");
    expect((error as ValidationError).message).toContain(problem);
  });
});
