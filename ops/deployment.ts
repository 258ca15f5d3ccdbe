/** What this deployment runs: the reference domain's processors and sinks, and the connectors. */
import { connectors } from "../connectors/registry.ts";
import { domainSinks, PROCESSORS } from "../processors/registry.ts";
import type { Processor, Sink } from "../runtime/index.ts";

/** Built on each call: sinks and connectors read their settings from the environment when built. */
export function deploymentDefinitions(): (Processor | Sink)[] {
  return [...PROCESSORS, ...domainSinks(), ...connectors()];
}
