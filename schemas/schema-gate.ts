/**
 * The compatibility gate: each subject's local schema against what the registry holds, under the subject's
 * level. `sluice schemas check` reports; `sluice schemas register` registers only when every subject passes.
 */
import type avro from "avsc";
import type { CompatibilityLevel } from "../topics/topic.ts";
import { avroType } from "./avro-type.ts";
import { compatibilityProblems } from "./compatibility.ts";
import type { SchemaRegistryClient } from "./registry-client.ts";
import type { SubjectSchema } from "./subjects.ts";

export interface SubjectVerdict {
  subject: string;
  level: CompatibilityLevel;
  status: "new" | "unchanged" | "compatible" | "incompatible";
  /** For `unchanged`: the registered id. */
  id?: number;
  problems: string[];
}

export async function checkSubject(
  registry: SchemaRegistryClient,
  { subject, schema, compatibility: level }: SubjectSchema,
): Promise<SubjectVerdict> {
  const versions = await registry.versions(subject);
  if (versions.length === 0) return { subject, level, status: "new", problems: [] };
  const id = await registry.lookup(subject, schema.text);
  if (id !== undefined) return { subject, level, status: "unchanged", id, problems: [] };
  const compared = level.endsWith("_TRANSITIVE") ? versions : versions.slice(-1);
  const previous = await Promise.all(
    compared.map(async (v) => avroType(JSON.parse((await registry.version(subject, v)).schema) as avro.Schema)),
  );
  const problems = compatibilityProblems(level, schema.type, previous);
  return { subject, level, status: problems.length ? "incompatible" : "compatible", problems };
}
