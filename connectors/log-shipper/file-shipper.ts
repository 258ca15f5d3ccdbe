/**
 * `sluice logs ship --service NAME FILE...`: follows log files of a service in any language (JSON or plain lines)
 * and ships each line to `logs.app` as a `LogEvent`. A file is the shipper's buffer: it reads on only as fast as
 * Kafka acknowledges, and after each acknowledged batch it records the file's position in the checkpoint, so a
 * restart resumes after the last line shipped. A line's event id derives from the file's identity and the line's
 * offset: a batch sent again after a crash (acknowledged, not yet checkpointed) repeats its ids, and the
 * Elasticsearch sink overwrites rather than adds.
 *
 * Rotation aware: when the path names a new file (rename and create), the old one is read to its end first (also
 * when that happened while the shipper was down: it is found in the same folder by its inode); when the file
 * shrinks (copy-and-truncate), it is read again from its start. A file that does not exist yet is waited for.
 */
import type { FileHandle } from "node:fs/promises";
import { open, readdir, stat } from "node:fs/promises";
import { hostname } from "node:os";
import path from "node:path";
import { childEventId, type KafkaPort, type Producer } from "../../runtime/index.ts";
import type { Checkpoint, FilePosition } from "./checkpoint.ts";
import { logEventOf } from "./log-line.ts";
import { type LogProducer, logProducer, resendDelayMs } from "./log-producer.ts";

export interface FileShipperOptions {
  service: string;
  files: readonly string[];
  checkpoint: Checkpoint;
  /** Default: the configured cluster. */
  kafka?: KafkaPort;
  /** How often a file at its end is looked at again. Default: 250ms. */
  pollMs?: number;
}

/** A read's worth of a file: at most this many bytes are shipped in one batch. */
const CHUNK_BYTES = 1024 * 1024;

interface Open {
  handle: FileHandle;
  dev: number;
  ino: number;
  offset: number;
}

export class FileShipper {
  private readonly options: FileShipperOptions;
  private readonly host = hostname();
  private readonly producer: Producer;
  private readonly events: LogProducer["events"];
  private readonly stopping = new AbortController();
  /** Lines shipped since start. */
  shipped = 0;

  constructor(options: FileShipperOptions) {
    this.options = options;
    ({ producer: this.producer, events: this.events } = logProducer(`logs-ship-${options.service}`, options));
  }

  /** Follows every file until `stop`; a batch being sent when it comes is finished and checkpointed first. */
  async run(): Promise<void> {
    await this.producer.connect();
    try {
      await Promise.all(this.options.files.map((file) => this.follow(file)));
    } finally {
      await this.producer.disconnect();
    }
  }

  stop(): void {
    this.stopping.abort();
  }

  private async follow(file: string): Promise<void> {
    let current: Open | undefined;
    let rotated = false;
    while (!this.stopping.signal.aborted) {
      if (!current) {
        // A file rotated away while the shipper was down is finished first, then its successor is read.
        current = await this.rotatedAway(file);
        rotated = current !== undefined;
      }
      current ??= await this.openAt(file);
      if (!current) {
        await this.sleep(this.options.pollMs ?? 250);
        continue;
      }
      const consumed = await this.shipChunk(file, current, rotated);
      if (consumed === undefined) break; // stopped while Kafka was down: nothing of the chunk checkpointed
      if (consumed > 0) continue;
      if (rotated) {
        // The old file was read to its end after the path moved on: its successor starts at 0.
        await current.handle.close();
        current = undefined;
        rotated = false;
        continue;
      }
      const now = await stat(file).catch(() => undefined);
      if (now && (now.ino !== current.ino || now.dev !== current.dev)) rotated = true;
      else if ((await current.handle.stat()).size < current.offset)
        current.offset = 0; // truncated in place
      else await this.sleep(this.options.pollMs ?? 250);
    }
    await current?.handle.close();
  }

  /** The file the checkpoint was following as `file`, now under another name with lines not yet shipped. */
  private async rotatedAway(file: string): Promise<Open | undefined> {
    const saved = this.options.checkpoint.get(file);
    if (!saved) return undefined;
    const now = await stat(file).catch(() => undefined);
    if (now && now.dev === saved.dev && now.ino === saved.ino) return undefined;
    const directory = path.dirname(file);
    for (const name of await readdir(directory)) {
      const candidate = path.join(directory, name);
      const found = await stat(candidate).catch(() => undefined);
      if (!found?.isFile() || found.dev !== saved.dev || found.ino !== saved.ino || found.size <= saved.offset)
        continue;
      return { handle: await open(candidate, "r"), dev: saved.dev, ino: saved.ino, offset: saved.offset };
    }
    return undefined;
  }

  /** Opens `file` where the checkpoint left it (the same file), else at its start; undefined while it is missing. */
  private async openAt(file: string): Promise<Open | undefined> {
    let handle: FileHandle;
    try {
      handle = await open(file, "r");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
    const { dev, ino, size } = await handle.stat();
    const saved: FilePosition | undefined = this.options.checkpoint.get(file);
    const same = saved && saved.dev === dev && saved.ino === ino && saved.offset <= size;
    return { handle, dev, ino, offset: same ? saved.offset : 0 };
  }

  /**
   * Ships the complete lines from the file's position (and a last line without its newline when the file is
   * done), then checkpoints past them. Returns the bytes read past; undefined when stopped before Kafka took them.
   */
  private async shipChunk(file: string, at: Open, done: boolean): Promise<number | undefined> {
    const buffer = Buffer.alloc(CHUNK_BYTES);
    const { bytesRead } = await at.handle.read(buffer, 0, CHUNK_BYTES, at.offset);
    const chunk = buffer.subarray(0, bytesRead);
    let end = chunk.lastIndexOf(0x0a) + 1;
    // A line longer than a chunk, or the unterminated last line of a file that is done, ships as it is.
    if (end === 0 && (bytesRead === CHUNK_BYTES || (done && bytesRead > 0))) end = bytesRead;
    if (end === 0) return 0;
    const lines: { text: string; offset: number }[] = [];
    for (let start = 0; start < end; ) {
      const newline = chunk.indexOf(0x0a, start);
      const stop = newline < 0 || newline >= end ? end : newline;
      const text = chunk.subarray(start, stop).toString("utf8").replace(/\r$/, "");
      if (text.trim() !== "") lines.push({ text, offset: at.offset + start });
      start = stop + 1;
    }
    if (!(await this.send(lines, at))) return undefined;
    at.offset += end;
    await this.options.checkpoint.set(file, { dev: at.dev, ino: at.ino, offset: at.offset });
    this.shipped += lines.length;
    return end;
  }

  /** Sends until Kafka acknowledges (backing off while it fails); false when stopped first. */
  private async send(lines: { text: string; offset: number }[], at: Open): Promise<boolean> {
    if (lines.length === 0) return true;
    const now = Date.now();
    const source = { service: this.options.service, host: this.host, now };
    const events = lines.map((line) => logEventOf(line.text, source));
    const eventIds = lines.map((line) => childEventId(`${this.host}:${at.dev}:${at.ino}`, line.offset));
    for (let failures = 0; !this.stopping.signal.aborted; failures++) {
      try {
        await this.events.send("logs.app", events, { eventIds });
        return true;
      } catch {
        await this.sleep(resendDelayMs(failures));
      }
    }
    return false;
  }

  private sleep(ms: number): Promise<void> {
    const { signal } = this.stopping;
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener("abort", done, { once: true });
    });
  }
}
