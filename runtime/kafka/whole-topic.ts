/** Where a reader of a whole topic starts, outside any group: every partition, from its beginning. */
import type { KafkaPort, PartitionStart } from "./port.ts";

export async function wholeTopic(kafka: KafkaPort, topic: string): Promise<PartitionStart[]> {
  const admin = kafka.admin();
  await admin.connect();
  const partitions = await admin.topicOffsets(topic).finally(() => admin.disconnect());
  return partitions.map(({ partition }) => ({ topic, partition }));
}
