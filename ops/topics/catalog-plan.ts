/**
 * The reference domain's topic plan: its catalog, its processors' and connectors' retry tiers and DLQs, the delay
 * tiers.
 */
import { runtimeConfig, topicPlan } from "../../runtime/index.ts";
import { TOPICS } from "../../topics/catalog.ts";
import type { TopicPlan } from "../../topics/topic.ts";
import { deploymentDefinitions } from "../deployment.ts";

export function catalogPlan(): TopicPlan[] {
  return topicPlan(TOPICS, deploymentDefinitions(), runtimeConfig().replicationFactor);
}
