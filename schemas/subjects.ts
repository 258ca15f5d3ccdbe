/** Which schema goes under which subject: TopicNameStrategy, `<topic>-value`, for every catalog topic. */
import { SluiceError } from "../processors/runtime/errors.ts";
import { TOPICS } from "../topics/catalog.ts";
import type { BusinessTopic } from "../topics/topic.ts";
import type { SchemaFile } from "./schema-files.ts";

export const valueSubject = (topic: string) => `${topic}-value`;

export interface SubjectSchema {
  subject: string;
  topic: string;
  schema: SchemaFile;
}

export function subjectSchemas(
  schemas: Map<string, SchemaFile>,
  topics: readonly BusinessTopic[] = TOPICS,
): SubjectSchema[] {
  return topics.map((topic) => {
    const schema = schemas.get(topic.valueSchema);
    if (!schema) {
      throw new SluiceError(
        "SCHEMA_MISSING",
        `topic ${topic.name} names value schema ${topic.valueSchema}, which no .avsc defines`,
      );
    }
    return { subject: valueSubject(topic.name), topic: topic.name, schema };
  });
}
