/** The reference domain's connectors (sinks, and processors such as the alert sink) are typed by its catalog, bound here once. */
import { processorsFor, sinksFor } from "../runtime/index.ts";
import type { TopicValues } from "../schemas/types.generated.ts";

export const { defineSink } = sinksFor<TopicValues>();
export const { defineProcessor } = processorsFor<TopicValues>();
