/** The reference domain's connectors are typed by its catalog's generated types, bound here once. */
import { sinksFor } from "../runtime/index.ts";
import type { TopicValues } from "../schemas/types.generated.ts";

export const { defineSink } = sinksFor<TopicValues>();
