/**
 * Avro schema compatibility with messages that name the offending field. avsc's resolver decides whether a
 * reader can read a writer's data (the Avro spec's resolution rules); when it cannot, the walk below descends
 * into records, arrays and maps to point at the field responsible.
 */
import avro from "avsc";
import type { CompatibilityLevel } from "../topics/topic.ts";

/** Why `reader` cannot read data written with `writer`, one line per offending field; empty when it can. */
export function readProblems(reader: avro.Type, writer: avro.Type, path = reader.name ?? reader.typeName): string[] {
  const verdict = tryResolve(reader, writer);
  if (verdict === undefined) return [];
  if (reader instanceof avro.types.RecordType && writer instanceof avro.types.RecordType) {
    const problems = reader.fields.flatMap((field) => {
      const source = writer.fields.find((w) => w.name === field.name || field.aliases.includes(w.name));
      if (!source) {
        return field.defaultValue() === undefined
          ? [`${path}.${field.name}: has no default and old data lacks it`]
          : [];
      }
      return readProblems(field.type, source.type, `${path}.${field.name}`);
    });
    if (problems.length) return problems;
  }
  if (reader instanceof avro.types.ArrayType && writer instanceof avro.types.ArrayType) {
    const problems = readProblems(reader.itemsType, writer.itemsType, `${path}[]`);
    if (problems.length) return problems;
  }
  if (reader instanceof avro.types.MapType && writer instanceof avro.types.MapType) {
    const problems = readProblems(reader.valuesType, writer.valuesType, `${path}{}`);
    if (problems.length) return problems;
  }
  return [`${path}: ${verdict}`];
}

function tryResolve(reader: avro.Type, writer: avro.Type): string | undefined {
  try {
    reader.createResolver(writer);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/**
 * The problems with registering `candidate` after `previous` (oldest first) under `level`.
 * BACKWARD: the new schema reads old data. FORWARD: old schemas read new data. FULL: both.
 * Plain levels compare with the latest version; *_TRANSITIVE with every version.
 */
export function compatibilityProblems(
  level: CompatibilityLevel,
  candidate: avro.Type,
  previous: avro.Type[],
): string[] {
  if (level === "NONE" || previous.length === 0) return [];
  const against = level.endsWith("_TRANSITIVE") ? previous : previous.slice(-1);
  const backward = level.startsWith("BACKWARD") || level.startsWith("FULL");
  const forward = level.startsWith("FORWARD") || level.startsWith("FULL");
  return against.flatMap((old) => [
    ...(backward ? readProblems(candidate, old).map((p) => `backward: new schema cannot read old data: ${p}`) : []),
    ...(forward ? readProblems(old, candidate).map((p) => `forward: old schema cannot read new data: ${p}`) : []),
  ]);
}
