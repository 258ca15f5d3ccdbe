/**
 * Where archive files go: a local directory (ARCHIVE_DIR) or an S3-compatible bucket (s3-store.ts). Either way a
 * file is written to a local spool file first; publishing makes it the archive's, then writes its manifest, so a
 * manifest names only a complete file. Layout: `<topic>/dt=YYYY-MM-DD/hour=HH/<topic>+<partition>+<start>.avro`,
 * the manifest beside it as `….manifest.json`.
 */
import { mkdirSync } from "node:fs";
import { access, mkdir, open, readdir, readFile, rename } from "node:fs/promises";
import path from "node:path";
import { crashPoint } from "../../runtime/index.ts";
import { SluiceError } from "../../topics/errors.ts";

export interface ArchiveManifest {
  /** The file's key (its path under the archive's root). */
  file: string;
  topic: string;
  partition: number;
  startOffset: string;
  endOffset: string;
  count: number;
  /** The registry id of the schema the records were written with. */
  schemaId: number;
  firstTimestamp: number;
  lastTimestamp: number;
  /** Of the file. */
  bytes: number;
}

export interface ArchiveStore {
  /** For logs: the directory or the bucket, without credentials. */
  readonly description: string;
  /** Local directory of the files being written (on the archive directory's filesystem, so a rename is atomic). */
  readonly spoolDir: string;
  /** Makes the finished, fsynced spool file the archive's file `manifest.file`, then writes its manifest. */
  publish(spool: string, manifest: ArchiveManifest): Promise<void>;
  /** The manifest of the file `file`, if it was published. */
  manifest(file: string): Promise<ArchiveManifest | undefined>;
  /** The manifests of a topic's files under the days `from`..`to` (YYYY-MM-DD, inclusive). */
  manifests(topic: string, from: string, to: string): Promise<ArchiveManifest[]>;
  read(file: string): Promise<Buffer>;
}

const DAY_DIR = /^dt=(\d{4}-\d{2}-\d{2})$/;

/** The archive file of a partition's records from `startOffset`, the first of which was written at `timestamp`. */
export function archiveFileKey(topic: string, partition: number, startOffset: string, timestamp: number): string {
  const time = new Date(timestamp).toISOString();
  return `${topic}/dt=${time.slice(0, 10)}/hour=${time.slice(11, 13)}/${topic}+${partition}+${startOffset}.avro`;
}

export function manifestKey(file: string): string {
  return file.replace(/\.avro$/, ".manifest.json");
}

export function parseManifest(text: string, where: string): ArchiveManifest {
  try {
    const manifest = JSON.parse(text) as ArchiveManifest;
    if (typeof manifest.file === "string" && typeof manifest.endOffset === "string") return manifest;
  } catch {}
  throw new SluiceError("ARCHIVE_CORRUPT", `${where} is not an archive manifest`);
}

/** Sorted as a replay reads them: by partition, then offset. */
export function byPartitionAndOffset(a: ArchiveManifest, b: ArchiveManifest): number {
  return a.partition - b.partition || Number(BigInt(a.startOffset) - BigInt(b.startOffset));
}

export function dayInRange(dirName: string, from: string, to: string): boolean {
  const day = DAY_DIR.exec(dirName)?.[1];
  return day !== undefined && day >= from && day <= to;
}

/** Files under a local directory: written in `<root>/.spool`, fsynced, renamed into place. */
export class DirectoryStore implements ArchiveStore {
  readonly description: string;
  readonly spoolDir: string;
  private readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
    this.description = this.root;
    this.spoolDir = path.join(this.root, ".spool");
    mkdirSync(this.spoolDir, { recursive: true });
  }

  async publish(spool: string, manifest: ArchiveManifest): Promise<void> {
    const target = path.join(this.root, manifest.file);
    await mkdirDurably(path.dirname(target), this.root);
    try {
      await rename(spool, target);
    } catch (error) {
      // A publish that failed after the rename is tried again: the file is already in place.
      if ((error as NodeJS.ErrnoException).code !== "ENOENT" || !(await exists(target))) throw error;
    }
    crashPoint("archive.renamed");
    const manifestPath = path.join(this.root, manifestKey(manifest.file));
    await writeDurably(`${manifestPath}.tmp`, `${JSON.stringify(manifest, null, 2)}\n`);
    await rename(`${manifestPath}.tmp`, manifestPath);
    await fsyncDir(path.dirname(target));
  }

  async manifest(file: string): Promise<ArchiveManifest | undefined> {
    const where = path.join(this.root, manifestKey(file));
    try {
      return parseManifest(await readFile(where, "utf8"), where);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
  }

  async manifests(topic: string, from: string, to: string): Promise<ArchiveManifest[]> {
    const topicDir = path.join(this.root, topic);
    const days = (await readdir(topicDir).catch(() => [])).filter((d) => dayInRange(d, from, to));
    const found: ArchiveManifest[] = [];
    for (const day of days) {
      for (const hour of await readdir(path.join(topicDir, day))) {
        const dir = path.join(topicDir, day, hour);
        for (const name of await readdir(dir)) {
          if (!name.endsWith(".manifest.json")) continue;
          found.push(parseManifest(await readFile(path.join(dir, name), "utf8"), path.join(dir, name)));
        }
      }
    }
    return found.sort(byPartitionAndOffset);
  }

  read(file: string): Promise<Buffer> {
    return readFile(path.join(this.root, file));
  }
}

/** Creates a directory and its missing parents up to `root`, each fsynced into its parent. */
async function mkdirDurably(dir: string, root: string): Promise<void> {
  if (dir === root || (await exists(dir))) return;
  await mkdirDurably(path.dirname(dir), root);
  await mkdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== "EEXIST") throw error;
  });
  await fsyncDir(path.dirname(dir));
}

async function writeDurably(file: string, text: string): Promise<void> {
  const handle = await open(file, "w");
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}
