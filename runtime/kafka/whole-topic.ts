/** Where readers start: a whole topic from its beginning, or where a group's committed offsets stand. */
import type { KafkaPort, PartitionStart, TopicPartitionOffset } from "./port.ts";

export async function wholeTopic(kafka: KafkaPort, topic: string): Promise<PartitionStart[]> {
  const admin = kafka.admin();
  await admin.connect();
  const partitions = await admin.topicOffsets(topic).finally(() => admin.disconnect());
  return partitions.map(({ partition }) => ({ topic, partition }));
}

/** A group's committed offsets of `topics`, as the broker has them. */
export async function committedOffsets(
  kafka: KafkaPort,
  group: string,
  topics: string[],
): Promise<TopicPartitionOffset[]> {
  const admin = kafka.admin();
  await admin.connect();
  return admin.committedOffsets(group, topics).finally(() => admin.disconnect());
}
