/** Reads and creates topics on the cluster, through the runtime's Kafka client. */
import { setTimeout as sleep } from "node:timers/promises";
import { createKafka, topicConfigs } from "../../processors/runtime/kafka-client.ts";
import type { ClusterTopic } from "../../topics/reconcile.ts";
import type { TopicPlan } from "../../topics/topic.ts";

export class ClusterTopics {
  private readonly admin = createKafka("sluice-topics").admin();

  async connect(): Promise<void> {
    await this.admin.connect();
  }

  async close(): Promise<void> {
    await this.admin.disconnect();
  }

  /** The named topics that exist, with partitions, replication and the given config keys. */
  async read(names: string[], configKeys: string[]): Promise<Map<string, ClusterTopic>> {
    const existing = new Set(await this.admin.listTopics());
    const present = names.filter((n) => existing.has(n));
    const result = new Map<string, ClusterTopic>();
    if (present.length === 0) return result;
    const metadata = await this.admin.fetchTopicMetadata({ topics: present });
    const configsByTopic = await topicConfigs(present, configKeys);
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
