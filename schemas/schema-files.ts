/**
 * The Avro schemas in schemas/<domain>/<Event>.avsc, loaded and parsed; or in another folder (SLUICE_SCHEMAS_DIR,
 * read by the runtime's config: a CI job checking a proposed change, a test).
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type avro from "avsc";
import { SluiceError } from "../topics/errors.ts";
import { avroType } from "./avro-type.ts";

export const SCHEMAS_DIR = path.dirname(fileURLToPath(import.meta.url));

export interface SchemaFile {
  /** The record's full name, e.g. `sluice.orders.OrderCreated`. */
  fullName: string;
  file: string;
  /** The schema as written, compact JSON: what is registered. */
  text: string;
  type: avro.Type;
}

export function loadSchemaFiles(dir: string = SCHEMAS_DIR): Map<string, SchemaFile> {
  const schemas = new Map<string, SchemaFile>();
  for (const file of avscFiles(dir)) {
    const schema = parseSchemaFile(file);
    const clash = schemas.get(schema.fullName);
    if (clash) throw new SluiceError("SCHEMA_DUPLICATE", `${schema.fullName} is defined in ${clash.file} and ${file}`);
    schemas.set(schema.fullName, schema);
  }
  return schemas;
}

export function parseSchemaFile(file: string): SchemaFile {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new SluiceError("SCHEMA_INVALID", `${file}: not JSON (${(error as Error).message})`);
  }
  let type: avro.Type;
  try {
    type = avroType(json as avro.Schema);
  } catch (error) {
    throw new SluiceError("SCHEMA_INVALID", `${file}: not a valid Avro schema (${(error as Error).message})`);
  }
  if (type.typeName !== "record" || !type.name) {
    throw new SluiceError("SCHEMA_INVALID", `${file}: the top level must be a named record`);
  }
  return { fullName: type.name, file, text: JSON.stringify(json), type };
}

function avscFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".avsc"))
    .map((entry) => path.join(entry.parentPath, entry.name))
    .sort();
}
