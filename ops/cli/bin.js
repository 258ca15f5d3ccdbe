#!/usr/bin/env node
// The `sluice` command. The CLI is TypeScript that Node 24 runs as it is; an older Node cannot even load it, so
// this plain-JavaScript door checks the version first and says, in one line, what to do (exit 2).
import { nodeTooOld } from "./node-version.js";

const problem = nodeTooOld(process.version);
if (problem) {
  console.error(problem);
  process.exit(2);
}
await import("./sluice.ts");
