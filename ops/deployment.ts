/** What this deployment runs: the reference domain's processors and sinks, and the connectors; and a team's own. */
import path from "node:path";
import { pathToFileURL } from "node:url";
import { connectors } from "../connectors/registry.ts";
import { domainSinks, PROCESSORS } from "../processors/registry.ts";
import type { Processor, Sink } from "../runtime/index.ts";
import { TOPICS } from "../topics/catalog.ts";
import { UsageError } from "../topics/errors.ts";
import type { BusinessTopic } from "../topics/topic.ts";

/** Built on each call: sinks and connectors read their settings from the environment when built. */
export function deploymentDefinitions(): (Processor | Sink)[] {
  return [...PROCESSORS, ...domainSinks(), ...connectors()];
}

export interface Deployment {
  definitions: (Processor | Sink)[];
  topics: BusinessTopic[];
}

/**
 * The deployment's definitions and topics, and with `moduleFile` (`--module`) a team's own: a module exporting
 * `processors` (processor and sink definitions) and, optionally, `topics` (its topics' specs).
 */
export async function deployment(command: string, moduleFile: string | undefined): Promise<Deployment> {
  const extra = moduleFile ? await loadModule(command, moduleFile) : { processors: [], topics: [] };
  return { definitions: [...deploymentDefinitions(), ...extra.processors], topics: [...TOPICS, ...extra.topics] };
}

async function loadModule(
  command: string,
  file: string,
): Promise<{ processors: (Processor | Sink)[]; topics: BusinessTopic[] }> {
  let loaded: { processors?: unknown; topics?: unknown };
  try {
    loaded = await import(pathToFileURL(path.resolve(file)).href);
  } catch (error) {
    throw new UsageError(`${command}: cannot load --module ${file}: ${(error as Error).message.split("\n")[0]}`);
  }
  if (!Array.isArray(loaded.processors)) {
    throw new UsageError(`${command}: --module ${file} exports no 'processors' array`);
  }
  return {
    processors: loaded.processors as (Processor | Sink)[],
    topics: Array.isArray(loaded.topics) ? (loaded.topics as BusinessTopic[]) : [],
  };
}
