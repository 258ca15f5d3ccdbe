import { UsageError } from "../../../processors/runtime/errors.ts";
import { catalogPlan } from "../../../topics/catalog.ts";
import { reconcile, type TopicChange } from "../../../topics/reconcile.ts";
import type { TopicPlan } from "../../../topics/topic.ts";
import { ClusterTopics } from "../../topics/cluster-topics.ts";
import { expectNoArgs, parse } from "../args.ts";

export async function topicsCommand(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  switch (action) {
    case "apply": {
      const { values, positionals } = parse("topics apply", rest, { "dry-run": { type: "boolean" } });
      expectNoArgs("topics apply", positionals);
      const changes = await applyTopics(catalogPlan(), { dryRun: values["dry-run"] ?? false });
      printChanges(changes, values["dry-run"] ?? false);
      return 0;
    }
    case "list": {
      expectNoArgs("topics list", rest);
      listTopics(catalogPlan());
      return 0;
    }
    default:
      throw new UsageError(`topics needs one of: apply, list${action ? ` (got '${action}')` : ""}`);
  }
}

/** Creates what is missing (unless dry-run) and returns every topic's change. Drift is reported, never fixed. */
export async function applyTopics(plan: TopicPlan[], options: { dryRun: boolean }): Promise<TopicChange[]> {
  const cluster = new ClusterTopics();
  try {
    await cluster.connect();
    const configKeys = [...new Set(plan.flatMap((p) => Object.keys(p.configs)))];
    const changes = reconcile(
      plan,
      await cluster.read(
        plan.map((p) => p.name),
        configKeys,
      ),
    );
    if (!options.dryRun) await cluster.create(changes.flatMap((c) => (c.action === "create" ? [c.plan] : [])));
    return changes;
  } finally {
    await cluster.close();
  }
}

function printChanges(changes: TopicChange[], dryRun: boolean): void {
  for (const change of changes) {
    if (change.action === "create") console.log(`${dryRun ? "would create" : "created"}  ${change.name}`);
    if (change.action === "drift") {
      console.log(`drift    ${change.name} (left as it is)`);
      for (const difference of change.differences) console.log(`           ${difference}`);
    }
  }
  const count = (action: TopicChange["action"]) => changes.filter((c) => c.action === action).length;
  console.log(
    `${count("create")} ${dryRun ? "to create" : "created"}, ${count("drift")} drifted, ${count("unchanged")} unchanged`,
  );
}

function listTopics(plan: TopicPlan[]): void {
  const width = Math.max(...plan.map((p) => p.name.length));
  for (const p of plan) {
    const configs = Object.entries(p.configs)
      .map(([k, v]) => `${k}=${v}`)
      .join(" ");
    console.log(
      `${p.name.padEnd(width)}  ${p.role.padEnd(8)}  partitions=${p.partitions} replication=${p.replicationFactor} ${configs}`,
    );
  }
}
