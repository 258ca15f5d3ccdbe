/** The reference domain's processors are typed by its catalog's generated types, bound here once. */
import { processorsFor, sinksFor } from "../runtime/index.ts";
import type { TopicValues } from "../schemas/types.generated.ts";

export const { defineProcessor } = processorsFor<TopicValues>();
export const { defineSink } = sinksFor<TopicValues>();
