/** The one factory of the topics tests and the bench declare for themselves: a catalog entry with test settings. */
import { processorsFor } from "../../runtime/index.ts";
import type { OrderStateChanged } from "../../schemas/types.generated.ts";
import { type BusinessTopic, businessTopic } from "../../topics/topic.ts";

/** The values of a test topic's default schema. */
export type StateEvent = OrderStateChanged;

/** Processors of test topics: any topic name, OrderStateChanged values. */
export const states = processorsFor<Record<string, StateEvent>>();

export const stateEvent = (orderId: string, state: StateEvent["state"], changedAt = 0n): StateEvent => ({
  orderId,
  state,
  changedAt,
});

export function testTopicSpec(
  name: string,
  options: Partial<Pick<BusinessTopic, "partitions" | "valueSchema" | "compression" | "key">> = {},
): BusinessTopic {
  return businessTopic({
    name,
    partitions: options.partitions ?? 1,
    key: options.key ?? "orderId",
    valueSchema: options.valueSchema ?? "sluice.orders.OrderStateChanged",
    retention: "1d",
    compression: options.compression ?? "lz4",
  });
}
