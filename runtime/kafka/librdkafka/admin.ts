/** The port's admin: topics and group offsets through the client, configs and partitions through kafkajs. */
import type { KafkaJS } from "@confluentinc/kafka-javascript";
import kafkajs from "kafkajs";
import type { Admin, NewTopic, PartitionOffsets, TopicDescription, TopicPartitionOffset } from "../port.ts";

export interface LibrdkafkaOptions {
  brokers: string[];
  clientId: string;
  /**
   * The client logs nothing of its own (it logs errors to the console otherwise): for an owner that counts its
   * failures itself, such as a log shipper, whose console may itself be shipped.
   */
  silent?: boolean;
}

let warningsFiltered = false;

/**
 * kafkajs 2.2.4 hands setTimeout a negative delay when it is not throttled; Node clamps it to 1 ms and prints a
 * TimeoutNegativeWarning each time. Keeps every other warning; done once, by the first admin (kafkajs's only user).
 */
function filterKafkajsWarnings(): void {
  if (warningsFiltered) return;
  warningsFiltered = true;
  const printWarnings = process.listeners("warning");
  process.removeAllListeners("warning");
  process.on("warning", (warning) => {
    if (warning.name !== "TimeoutNegativeWarning") for (const print of printWarnings) print(warning);
  });
}

export class LibrdkafkaAdmin implements Admin {
  private readonly client: KafkaJS.Admin;
  /** For DescribeConfigs, AlterConfigs and CreatePartitions, which librdkafka's KafkaJS-style admin lacks. */
  private readonly configs: kafkajs.Admin;

  constructor(kafka: KafkaJS.Kafka, options: LibrdkafkaOptions) {
    filterKafkajsWarnings();
    this.client = kafka.admin();
    this.configs = new kafkajs.Kafka({
      clientId: `${options.clientId}-configs`,
      brokers: options.brokers,
      logLevel: kafkajs.logLevel.NOTHING,
    }).admin();
  }

  async connect(): Promise<void> {
    await Promise.all([this.client.connect(), this.configs.connect()]);
  }

  async disconnect(): Promise<void> {
    await Promise.allSettled([this.client.disconnect(), this.configs.disconnect()]);
  }

  listTopics(): Promise<string[]> {
    return this.client.listTopics();
  }

  async describeTopics(topics: string[]): Promise<TopicDescription[]> {
    if (topics.length === 0) return [];
    const metadata = await this.client.fetchTopicMetadata({ topics });
    return metadata.map((t) => ({
      name: t.name,
      partitions: t.partitions.length,
      replicationFactor: t.partitions[0]?.replicas.length ?? 0,
    }));
  }

  async createTopics(topics: NewTopic[]): Promise<void> {
    if (topics.length === 0) return;
    await this.client.createTopics({
      topics: topics.map((t) => ({
        topic: t.name,
        numPartitions: t.partitions,
        replicationFactor: t.replicationFactor,
        configEntries: Object.entries(t.configs).map(([name, value]) => ({ name, value })),
      })),
    });
  }

  async deleteTopics(topics: string[]): Promise<void> {
    if (topics.length > 0) await this.client.deleteTopics({ topics });
  }

  async createPartitions(topic: string, count: number): Promise<void> {
    await this.configs.createPartitions({ topicPartitions: [{ topic, count }] });
  }

  async topicConfigs(
    topics: readonly string[],
    names: readonly string[],
  ): Promise<Map<string, Record<string, string>>> {
    const existing = new Set(await this.client.listTopics());
    const present = topics.filter((t) => existing.has(t));
    if (present.length === 0) return new Map();
    const { resources } = await this.configs.describeConfigs({
      includeSynonyms: false,
      resources: present.map((name) => ({ type: kafkajs.ConfigResourceTypes.TOPIC, name, configNames: [...names] })),
    });
    return new Map(
      resources.map((r) => [
        r.resourceName,
        Object.fromEntries(r.configEntries.map((e) => [e.configName, e.configValue])),
      ]),
    );
  }

  async setTopicConfig(topic: string, name: string, value: string): Promise<void> {
    // AlterConfigs replaces a topic's whole config: keep the others it has set.
    const [current] = (
      await this.configs.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: kafkajs.ConfigResourceTypes.TOPIC, name: topic }],
      })
    ).resources;
    const kept = (current?.configEntries ?? []).filter((e) => !e.isDefault && !e.readOnly && e.configName !== name);
    await this.configs.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: kafkajs.ConfigResourceTypes.TOPIC,
          name: topic,
          configEntries: [...kept.map((e) => ({ name: e.configName, value: e.configValue })), { name, value }],
        },
      ],
    });
  }

  async committedOffsets(groupId: string, topics: string[]): Promise<TopicPartitionOffset[]> {
    const offsets = await this.client.fetchOffsets({ groupId, topics });
    return offsets.flatMap(({ topic, partitions }) =>
      partitions.map(({ partition, offset }) => ({ topic, partition, offset })),
    );
  }

  async topicOffsets(topic: string): Promise<PartitionOffsets[]> {
    const offsets = await this.client.fetchTopicOffsets(topic);
    return offsets.map(({ partition, low, high }) => ({ partition, low, high }));
  }
}
