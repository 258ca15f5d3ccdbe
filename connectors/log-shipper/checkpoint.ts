/**
 * Where `logs ship` is in each file it follows: the file's identity (device and inode, so a rotated file is told
 * from its successor) and the byte after the last line Kafka acknowledged. Written to a temporary file, fsynced
 * and renamed over the old one, so a crash leaves the previous checkpoint or the new one, never half of one.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { open, rename } from "node:fs/promises";
import path from "node:path";
import { ConfigError } from "../../topics/errors.ts";

export interface FilePosition {
  dev: number;
  ino: number;
  /** The byte after the last acknowledged line. */
  offset: number;
}

export class Checkpoint {
  private readonly file: string;
  private readonly positions: Map<string, FilePosition>;
  private saving: Promise<void> = Promise.resolve();

  constructor(file: string) {
    this.file = file;
    mkdirSync(path.dirname(file), { recursive: true });
    this.positions = new Map(Object.entries(read(file)));
  }

  get(logFile: string): FilePosition | undefined {
    return this.positions.get(logFile);
  }

  /** Records `logFile`'s position and writes the checkpoint; resolves once it is on disk. */
  set(logFile: string, position: FilePosition): Promise<void> {
    this.positions.set(logFile, position);
    const snapshot = JSON.stringify(Object.fromEntries(this.positions));
    this.saving = this.saving.then(() => write(this.file, snapshot));
    return this.saving;
  }
}

function read(file: string): Record<string, FilePosition> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw error;
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new ConfigError(`the checkpoint ${file} is not JSON: move it away to ship the files from their start`);
  }
}

async function write(file: string, text: string): Promise<void> {
  const temporary = `${file}.tmp`;
  const handle = await open(temporary, "w");
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, file);
}
