/**
 * Reconciles a cluster with a topic plan: creates what is missing, reports what differs (drift is never fixed
 * silently: fewer partitions would reorder keys, a config change may be someone's hotfix). Used by
 * `sluice topics apply`, and by tests and the bench for the topics they make.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Admin, KafkaPort } from "../../runtime/index.ts";
import { SluiceError } from "../../topics/errors.ts";
import { type ClusterTopic, reconcile, type TopicChange } from "../../topics/reconcile.ts";
import type { TopicPlan } from "../../topics/topic.ts";

export async function applyTopics(
  kafka: KafkaPort,
  plan: readonly TopicPlan[],
  options: { dryRun: boolean },
): Promise<TopicChange[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const configKeys = [...new Set(plan.flatMap((p) => Object.keys(p.configs)))];
    const changes = reconcile(
      plan,
      await clusterTopics(
        admin,
        plan.map((p) => p.name),
        configKeys,
      ),
    );
    const missing = changes.flatMap((c) => (c.action === "create" ? [c.plan] : []));
    if (!options.dryRun && missing.length > 0) {
      await admin.createTopics(missing);
      await waitUntilListed(
        admin,
        missing.map((p) => p.name),
      );
    }
    return changes;
  } finally {
    await admin.disconnect();
  }
}

/** The named topics that exist, with partitions, replication and the given config keys. */
async function clusterTopics(admin: Admin, names: string[], configKeys: string[]): Promise<Map<string, ClusterTopic>> {
  // The configs of the topics that exist: the port leaves out the others.
  const configs = await admin.topicConfigs(names, configKeys);
  const descriptions = await admin.describeTopics([...configs.keys()]);
  return new Map(descriptions.map((t) => [t.name, { ...t, configs: configs.get(t.name) ?? {} }]));
}

/** Brokers learn of new topics asynchronously: wait, so that the next reader sees what was created. */
async function waitUntilListed(admin: Admin, names: string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const listed = new Set(await admin.listTopics());
    const missing = names.filter((n) => !listed.has(n));
    if (missing.length === 0) return;
    if (Date.now() > deadline) {
      throw new SluiceError(
        "STACK_UNREACHABLE",
        `created topics not visible after ${timeoutMs / 1000}s: ${missing.join(", ")}`,
      );
    }
    await sleep(200);
  }
}
