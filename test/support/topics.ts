/** The one factory of the topics tests and the bench declare for themselves: a catalog entry with test settings. */
import { type BusinessTopic, businessTopic } from "../../topics/topic.ts";

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
