/**
 * Where uploaded videos, their renditions and thumbnails are kept, by key (`videos/<id>/source`, `.../360p.mp4`):
 * a local directory by default (MEDIA_DIR), an S3-compatible bucket with MEDIA_S3_BUCKET (the stack's S3Proxy
 * here). The transcoder works on local files, so objects move whole between a file and the store; a reader (the
 * video service's GET) streams them.
 */
import { createReadStream, createWriteStream } from "node:fs";
import { copyFile, mkdir, rename, stat } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadBucketCommand,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { domainSettings } from "../settings.ts";

export interface MediaStore {
  readonly description: string;
  /** Stores the file's bytes under `key`, replacing what was there (a job run again writes the same keys). */
  putFile(key: string, file: string): Promise<void>;
  /** Copies the object to `file`; false when there is none. */
  getFile(key: string, file: string): Promise<boolean>;
  /** The object as a stream, or undefined when there is none. */
  read(key: string): Promise<Readable | undefined>;
}

export class LocalMediaStore implements MediaStore {
  readonly description: string;
  private readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
    this.description = `directory ${dir}`;
  }

  private path(key: string): string {
    const file = path.resolve(this.dir, key);
    if (!file.startsWith(`${this.dir}${path.sep}`)) throw new RangeError(`media key ${key} leaves the store`);
    return file;
  }

  async putFile(key: string, file: string): Promise<void> {
    const target = this.path(key);
    await mkdir(path.dirname(target), { recursive: true });
    // Copied beside it, then renamed: a reader never sees half an object.
    const partial = `${target}.partial-${process.pid}`;
    await copyFile(file, partial);
    await rename(partial, target);
  }

  async getFile(key: string, file: string): Promise<boolean> {
    try {
      await copyFile(this.path(key), file);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
      throw error;
    }
  }

  async read(key: string): Promise<Readable | undefined> {
    const file = this.path(key);
    const found = await stat(file).catch(() => undefined);
    return found?.isFile() ? createReadStream(file) : undefined;
  }
}

export class S3MediaStore implements MediaStore {
  readonly description: string;
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private bucketReady: Promise<void> | undefined;

  constructor(location: NonNullable<ReturnType<typeof domainSettings>["mediaS3"]>) {
    this.bucket = location.bucket;
    this.prefix = location.prefix && !location.prefix.endsWith("/") ? `${location.prefix}/` : location.prefix;
    this.description = `s3://${location.bucket}/${this.prefix}${location.endpoint ? ` at ${location.endpoint}` : ""}`;
    const local = location.endpoint && ["127.0.0.1", "localhost"].includes(new URL(location.endpoint).hostname);
    this.client = new S3Client({
      region: location.region,
      // A streamed body is sent as it is, not as aws-chunked with a trailing checksum, which S3-compatible stores
      // (S3Proxy here) do not all take.
      requestChecksumCalculation: "WHEN_REQUIRED",
      ...(location.endpoint ? { endpoint: location.endpoint, forcePathStyle: true } : {}),
      // A store on this machine (the stack's S3Proxy) takes any: the SDK only needs something to sign with.
      ...(local && !process.env.AWS_ACCESS_KEY_ID
        ? { credentials: { accessKeyId: "local", secretAccessKey: "local" } }
        : {}),
    });
  }

  private ensureBucket(): Promise<void> {
    this.bucketReady ??= this.client
      .send(new HeadBucketCommand({ Bucket: this.bucket }))
      .then(
        () => {},
        () => this.client.send(new CreateBucketCommand({ Bucket: this.bucket })).then(() => {}),
      )
      .catch((error: unknown) => {
        this.bucketReady = undefined;
        throw error;
      });
    return this.bucketReady;
  }

  /** The SDK cannot retry a streamed body itself: a failed upload is sent again from the file, twice at most. */
  async putFile(key: string, file: string): Promise<void> {
    await this.ensureBucket();
    const { size } = await stat(file);
    for (let attempt = 1; ; attempt++) {
      try {
        const body = { Bucket: this.bucket, Key: `${this.prefix}${key}`, ContentLength: size };
        await this.client.send(new PutObjectCommand({ ...body, Body: createReadStream(file) }));
        return;
      } catch (error) {
        if (attempt === 3) throw error;
        await new Promise((resolve) => setTimeout(resolve, 250 * attempt));
      }
    }
  }

  async getFile(key: string, file: string): Promise<boolean> {
    const body = await this.read(key);
    if (!body) return false;
    await pipeline(body, createWriteStream(file));
    return true;
  }

  async read(key: string): Promise<Readable | undefined> {
    try {
      const { Body } = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: `${this.prefix}${key}` }),
      );
      return Body instanceof Readable ? Body : undefined;
    } catch (error) {
      if (error instanceof NoSuchKey) return undefined;
      throw error;
    }
  }
}

let store: MediaStore | undefined;

/** The store the environment configures, built once. */
export function mediaStore(): MediaStore {
  const { mediaS3, mediaDir } = domainSettings();
  store ??= mediaS3 ? new S3MediaStore(mediaS3) : new LocalMediaStore(mediaDir);
  return store;
}

export const sourceKey = (videoId: string) => `videos/${videoId}/source`;
export const renditionKey = (videoId: string, resolution: string) => `videos/${videoId}/${resolution}.mp4`;
export const thumbnailKey = (videoId: string) => `videos/${videoId}/thumbnail.jpg`;
