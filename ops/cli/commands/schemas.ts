import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { runtimeConfig } from "../../../runtime/index.ts";
import { generateTypes } from "../../../schemas/codegen.ts";
import { SchemaRegistryClient } from "../../../schemas/registry-client.ts";
import { loadSchemaFiles, SCHEMAS_DIR } from "../../../schemas/schema-files.ts";
import { checkSubject, type SubjectVerdict } from "../../../schemas/schema-gate.ts";
import { type SubjectSchema, subjectSchemas } from "../../../schemas/subjects.ts";
import { TOPICS } from "../../../topics/catalog.ts";
import { SluiceError, UsageError } from "../../../topics/errors.ts";
import { expectNoArgs, parse } from "../args.ts";

export async function schemasCommand(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  switch (action) {
    case "check":
      expectNoArgs("schemas check", rest);
      return report(await verdicts(registry(), subjects())) ? 0 : 1;
    case "register":
      expectNoArgs("schemas register", rest);
      return register();
    case "codegen": {
      const { values, positionals } = parse("schemas codegen", rest, { check: { type: "boolean" } });
      expectNoArgs("schemas codegen", positionals);
      return codegen(values.check ?? false);
    }
    default:
      throw new UsageError(`schemas needs one of: register, check, codegen${action ? ` (got '${action}')` : ""}`);
  }
}

const registry = () => new SchemaRegistryClient(runtimeConfig().schemaRegistryUrl);
/** The folder of the .avsc files and of the types generated from them. */
const schemasDir = () => runtimeConfig().schemasDir ?? SCHEMAS_DIR;
const subjects = () => subjectSchemas(loadSchemaFiles(schemasDir()), TOPICS);

function verdicts(client: SchemaRegistryClient, entries: SubjectSchema[]): Promise<SubjectVerdict[]> {
  return Promise.all(entries.map((entry) => checkSubject(client, entry)));
}

/** Prints one line per subject and every problem; returns whether all are compatible. */
function report(results: SubjectVerdict[]): boolean {
  const width = Math.max(...results.map((r) => r.subject.length));
  for (const r of results) {
    console.log(`${r.subject.padEnd(width)}  ${r.status.padEnd(12)}  ${r.level}`);
    for (const problem of r.problems) console.log(`${" ".repeat(width)}  ✗ ${problem}`);
  }
  const bad = results.filter((r) => r.status === "incompatible");
  if (bad.length)
    console.error(`sluice: ${bad.length} subject(s) incompatible: ${bad.map((r) => r.subject).join(", ")}`);
  return bad.length === 0;
}

async function register(): Promise<number> {
  const client = registry();
  const entries = subjects();
  const results = await verdicts(client, entries);
  if (!report(results)) {
    console.error(
      "sluice: nothing registered: fix the schemas above or change their compatibility level in topics/catalog.ts",
    );
    return 1;
  }
  const schemas = new Map(entries.map((e) => [e.subject, e.schema]));
  for (const result of results) {
    // The registry enforces the level from now on too, for producers that register on their own.
    await client.setCompatibility(result.subject, result.level);
    if (result.status === "unchanged") continue;
    const schema = schemas.get(result.subject);
    if (!schema) throw new SluiceError("SCHEMA_MISSING", `no schema for ${result.subject}`);
    const id = await client.register(result.subject, schema.text);
    console.log(`registered ${result.subject} (id ${id})`);
  }
  return 0;
}

function codegen(checkOnly: boolean): number {
  const dir = schemasDir();
  const generated = path.join(dir, "types.generated.ts");
  const text = generateTypes(loadSchemaFiles(dir), TOPICS);
  const current = safeRead(generated);
  if (checkOnly) {
    if (current === text) return 0;
    console.error(`sluice: ${generated} is stale: run \`sluice schemas codegen\` and commit it`);
    return 1;
  }
  if (current !== text) writeFileSync(generated, text);
  console.log(`${current === text ? "unchanged" : "wrote"} ${generated}`);
  return 0;
}

function safeRead(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}
