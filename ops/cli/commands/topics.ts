import { librdkafka, runtimeConfig } from "../../../runtime/index.ts";
import { UsageError } from "../../../topics/errors.ts";
import type { TopicChange } from "../../../topics/reconcile.ts";
import type { TopicPlan } from "../../../topics/topic.ts";
import { applyTopics } from "../../topics/apply-topics.ts";
import { catalogPlan } from "../../topics/catalog-plan.ts";
import { expectNoArgs, parse } from "../args.ts";

export async function topicsCommand(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  switch (action) {
    case "apply": {
      const { values, positionals } = parse("topics apply", rest, { "dry-run": { type: "boolean" } });
      expectNoArgs("topics apply", positionals);
      const kafka = librdkafka({ brokers: runtimeConfig().kafkaBrokers, clientId: "sluice-topics" });
      const changes = await applyTopics(kafka, catalogPlan(), { dryRun: values["dry-run"] ?? false });
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
