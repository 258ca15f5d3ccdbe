/**
 * The reference domain's topic plan: its catalog, its processors' and connectors' retry tiers and DLQs, the delay
 * tiers.
 */
import { connectors } from "../../connectors/registry.ts";
import { domainSinks, PROCESSORS } from "../../processors/registry.ts";
import { runtimeConfig, topicPlan } from "../../runtime/index.ts";
import { TOPICS } from "../../topics/catalog.ts";
import type { TopicPlan } from "../../topics/topic.ts";

export function catalogPlan(): TopicPlan[] {
  return topicPlan(TOPICS, [...PROCESSORS, ...domainSinks(), ...connectors()], runtimeConfig().replicationFactor);
}
