// The README's example of testing a processor with the driver, as it is there (import paths from test/unit).
import { describe, expect, it } from "vitest";
import { processorsFor, RetryableError } from "../../runtime/index.ts";
import { TestDriver } from "../../runtime/testing/index.ts";
import { loadSchemaFiles } from "../../schemas/schema-files.ts";
import type { OrderCreated, TopicValues } from "../../schemas/types.generated.ts";
import { TOPICS } from "../../topics/catalog.ts";

const { defineProcessor } = processorsFor<TopicValues>();
const mailServerUp = false;
const confirm = defineProcessor({
  name: "confirm",
  input: "orders.created",
  async handler() {
    if (!mailServerUp) throw new RetryableError("mail server down");
  },
});

describe("confirm", () => {
  it("retries through the tiers, then gives up to the DLQ with its history", async () => {
    const driver = await TestDriver.start<TopicValues>({
      topics: TOPICS,
      schemas: loadSchemaFiles(),
      processors: [confirm],
    });
    const order: OrderCreated = {
      orderId: "o-1",
      userId: "u-1",
      items: [{ sku: "mug", quantity: 1, unitPriceCents: 900n }],
      totalCents: 900n,
      currency: "EUR",
      createdAt: BigInt(driver.clock.now()),
    };
    await driver.pipe("orders.created", "o-1", order);
    await driver.advance("12m"); // the 5s, 1m and 10m tiers, in milliseconds
    const [dead] = await driver.dlq("confirm");
    expect(dead?.value).toEqual(order);
    expect(dead?.headers).toMatchObject({
      attempt: "4",
      "error-class": "RETRYABLE",
      "original-topic": "orders.created",
    });
    await driver.stop();
  });
});
