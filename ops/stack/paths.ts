/** Where the local stack keeps its binaries, data, pid files and logs: all under the git-ignored `.sluice/`. */

import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const STATE_DIR = process.env.SLUICE_STATE_DIR || path.join(ROOT, ".sluice");
export const DIST_DIR = path.join(STATE_DIR, "dist");
export const DATA_DIR = path.join(STATE_DIR, "data");
export const RUN_DIR = path.join(STATE_DIR, "run");
export const LOG_DIR = path.join(STATE_DIR, "logs");
