/**
 * `sluice kibana import`: posts the saved objects in ops/kibana (the logs data view, the "Errors by service"
 * search, the "Sluice logs" dashboard) to Kibana's saved-objects import API at KIBANA_URL, replacing earlier
 * versions of the same objects.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { textVar } from "../../../runtime/index.ts";
import { SluiceError, UsageError } from "../../../topics/errors.ts";

export const KIBANA_DIR = path.resolve(import.meta.dirname, "../../kibana");
const DEFAULT_KIBANA_URL = "http://127.0.0.1:5601";

export async function kibanaCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== "import" || rest.length > 0) throw new UsageError("kibana: usage: sluice kibana import");
  const base = textVar(process.env, "KIBANA_URL") ?? DEFAULT_KIBANA_URL;
  let failed = 0;
  for (const file of readdirSync(KIBANA_DIR).filter((f) => f.endsWith(".ndjson"))) {
    const result = await importFile(base, path.join(KIBANA_DIR, file));
    console.log(
      `${file}: ${result.successCount} imported${result.errors.length ? `, ${result.errors.length} failed` : ""}`,
    );
    for (const error of result.errors) console.log(`  ${error.type} ${error.id}: ${JSON.stringify(error.error)}`);
    failed += result.errors.length;
  }
  return failed > 0 ? 1 : 0;
}

interface ImportResult {
  success: boolean;
  successCount: number;
  errors: { id: string; type: string; error: unknown }[];
}

async function importFile(base: string, file: string): Promise<ImportResult> {
  const form = new FormData();
  form.append("file", new Blob([readFileSync(file)], { type: "application/ndjson" }), path.basename(file));
  let response: Response;
  try {
    response = await fetch(new URL("/api/saved_objects/_import?overwrite=true", base), {
      method: "POST",
      headers: { "kbn-xsrf": "sluice" },
      body: form,
    });
  } catch (error) {
    throw new SluiceError("STACK_UNREACHABLE", `Kibana at ${base} does not answer (${(error as Error).message})`);
  }
  if (!response.ok) {
    throw new SluiceError(
      "STACK_UNREACHABLE",
      `Kibana refused the import: ${response.status} ${await response.text()}`,
    );
  }
  const result = (await response.json()) as Partial<ImportResult>;
  return { success: result.success ?? false, successCount: result.successCount ?? 0, errors: result.errors ?? [] };
}
