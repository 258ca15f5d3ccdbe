/** Which schema goes under which subject: TopicNameStrategy, `<topic>-value`, for every topic of a catalog. */

import { SluiceError } from "../topics/errors.ts";
import type { BusinessTopic, CompatibilityLevel } from "../topics/topic.ts";
import type { SchemaFile } from "./schema-files.ts";

export const valueSubject = (topic: string) => `${topic}-value`;

export interface SubjectSchema {
  subject: string;
  topic: string;
  schema: SchemaFile;
  /** The topic's compatibility level, which the subject is checked and registered under. */
  compatibility: CompatibilityLevel;
}

export function subjectSchemas(
  schemas: ReadonlyMap<string, SchemaFile>,
  topics: readonly BusinessTopic[],
): SubjectSchema[] {
  return topics.map((topic) => {
    const schema = schemas.get(topic.valueSchema);
    if (!schema) {
      throw new SluiceError(
        "SCHEMA_MISSING",
        `topic ${topic.name} names value schema ${topic.valueSchema}, which no .avsc defines`,
      );
    }
    return { subject: valueSubject(topic.name), topic: topic.name, schema, compatibility: topic.compatibility };
  });
}
