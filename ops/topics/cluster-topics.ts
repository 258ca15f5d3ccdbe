/**
 * Reads and creates topics on the cluster. Metadata and creation go through the runtime's Kafka client;
 * topic configs are read with kafkajs, because librdkafka's KafkaJS-style admin has no DescribeConfigs.
 */
import { setTimeout as sleep } from "node:timers/promises";
import kafkajs from "kafkajs";
import { endpointsFromEnv } from "../../processors/runtime/endpoints.ts";
import { createKafka } from "../../processors/runtime/kafka-client.ts";
import type { ClusterTopic } from "../../topics/reconcile.ts";
import type { TopicPlan } from "../../topics/topic.ts";

// kafkajs 2.2.4 hands setTimeout a negative delay when it is not throttled; Node clamps it to 1 ms and prints a
// TimeoutNegativeWarning each time. Keep every other warning.
const printWarnings = process.listeners("warning");
process.removeAllListeners("warning");
process.on("warning", (warning) => {
  if (warning.name !== "TimeoutNegativeWarning") for (const print of printWarnings) print(warning);
});

export class ClusterTopics {
  private readonly admin = createKafka("sluice-topics").admin();
  private readonly configReader = new kafkajs.Kafka({
    clientId: "sluice-topics-configs",
    brokers: endpointsFromEnv().kafkaBrokers,
    logLevel: kafkajs.logLevel.NOTHING,
  }).admin();

  async connect(): Promise<void> {
    await Promise.all([this.admin.connect(), this.configReader.connect()]);
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.admin.disconnect(), this.configReader.disconnect()]);
  }

  /** The named topics that exist, with partitions, replication and the given config keys. */
  async read(names: string[], configKeys: string[]): Promise<Map<string, ClusterTopic>> {
    const existing = new Set(await this.admin.listTopics());
    const present = names.filter((n) => existing.has(n));
    const result = new Map<string, ClusterTopic>();
    if (present.length === 0) return result;
    const metadata = await this.admin.fetchTopicMetadata({ topics: present });
    const described = await this.configReader.describeConfigs({
      includeSynonyms: false,
      resources: present.map((name) => ({ type: kafkajs.ConfigResourceTypes.TOPIC, name, configNames: configKeys })),
    });
    const configsByTopic = new Map(
      described.resources.map((r) => [
        r.resourceName,
        Object.fromEntries(r.configEntries.map((e) => [e.configName, e.configValue])),
      ]),
    );
    for (const topic of metadata) {
      result.set(topic.name, {
        name: topic.name,
        partitions: topic.partitions.length,
        replicationFactor: topic.partitions[0]?.replicas.length ?? 0,
        configs: configsByTopic.get(topic.name) ?? {},
      });
    }
    return result;
  }

  async create(plans: TopicPlan[]): Promise<void> {
    if (plans.length === 0) return;
    await this.admin.createTopics({
      topics: plans.map((p) => ({
        topic: p.name,
        numPartitions: p.partitions,
        replicationFactor: p.replicationFactor,
        configEntries: Object.entries(p.configs).map(([name, value]) => ({ name, value })),
      })),
    });
    await this.waitUntilListed(plans.map((p) => p.name));
  }

  /** Brokers learn of new topics asynchronously: wait, so that the next reader sees what was created. */
  private async waitUntilListed(names: string[], timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const listed = new Set(await this.admin.listTopics());
      const missing = names.filter((n) => !listed.has(n));
      if (missing.length === 0) return;
      if (Date.now() > deadline)
        throw new Error(`created topics not visible after ${timeoutMs / 1000}s: ${missing.join(", ")}`);
      await sleep(200);
    }
  }
}
