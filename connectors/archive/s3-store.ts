/**
 * Archive files in an S3-compatible bucket (AWS S3, S3Proxy, MinIO...), under a prefix. A file is written to the
 * local spool, fsynced, then uploaded whole (a PUT is atomic: readers see all of it or nothing), then its
 * manifest; the spool file is removed once both are stored.
 */
import { mkdirSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { crashPoint } from "../../runtime/index.ts";
import {
  type ArchiveManifest,
  type ArchiveStore,
  byPartitionAndOffset,
  dayInRange,
  manifestKey,
  parseManifest,
} from "./archive-store.ts";

export interface S3Location {
  bucket: string;
  prefix: string;
  /** An S3-compatible store's URL; default: AWS. */
  endpoint: string | undefined;
  region: string;
}

function isLoopback(endpoint: string | undefined): boolean {
  const host = endpoint ? new URL(endpoint).hostname : "";
  return host === "127.0.0.1" || host === "localhost" || host === "[::1]";
}

export class S3Store implements ArchiveStore {
  readonly description: string;
  readonly spoolDir: string;
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;

  constructor(location: S3Location, spoolDir: string) {
    this.bucket = location.bucket;
    this.prefix = location.prefix && !location.prefix.endsWith("/") ? `${location.prefix}/` : location.prefix;
    this.description = `s3://${location.bucket}/${this.prefix}${location.endpoint ? ` at ${location.endpoint}` : ""}`;
    this.spoolDir = spoolDir;
    mkdirSync(spoolDir, { recursive: true });
    this.client = new S3Client({
      region: location.region,
      ...(location.endpoint ? { endpoint: location.endpoint, forcePathStyle: true } : {}),
      // A store on this machine (the stack's S3Proxy) takes any: the SDK only needs something to sign with.
      ...(isLoopback(location.endpoint) && !process.env.AWS_ACCESS_KEY_ID
        ? { credentials: { accessKeyId: "local", secretAccessKey: "local" } }
        : {}),
    });
  }

  /** Creates the bucket when it does not exist (a local S3Proxy starts empty). */
  async ensureBucket(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (error) {
      if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode !== 404) throw error;
      await this.client.send(new CreateBucketCommand({ Bucket: this.bucket }));
    }
  }

  async publish(spool: string, manifest: ArchiveManifest): Promise<void> {
    await this.put(manifest.file, await readFile(spool), "avro/binary");
    crashPoint("archive.renamed");
    await this.put(
      manifestKey(manifest.file),
      Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`),
      "application/json",
    );
    await rm(spool, { force: true });
  }

  async manifest(file: string): Promise<ArchiveManifest | undefined> {
    const body = await this.get(manifestKey(file));
    return body === undefined ? undefined : parseManifest(body.toString(), manifestKey(file));
  }

  async manifests(topic: string, from: string, to: string): Promise<ArchiveManifest[]> {
    const found: ArchiveManifest[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: `${this.prefix}${topic}/`, ContinuationToken: token }),
      );
      for (const { Key } of page.Contents ?? []) {
        if (!Key?.endsWith(".manifest.json")) continue;
        const day = Key.slice(this.prefix.length).split("/")[1] ?? "";
        if (!dayInRange(day, from, to)) continue;
        const body = await this.get(Key.slice(this.prefix.length));
        if (body) found.push(parseManifest(body.toString(), Key));
      }
      token = page.NextContinuationToken;
    } while (token);
    return found.sort(byPartitionAndOffset);
  }

  async read(file: string): Promise<Buffer> {
    const body = await this.get(file);
    if (body === undefined) throw new Error(`${this.description}: ${file} is missing`);
    return body;
  }

  close(): void {
    this.client.destroy();
  }

  private async put(key: string, body: Buffer, contentType: string): Promise<void> {
    await this.client.send(
      new PutObjectCommand({ Bucket: this.bucket, Key: `${this.prefix}${key}`, Body: body, ContentType: contentType }),
    );
  }

  private async get(key: string): Promise<Buffer | undefined> {
    try {
      const object = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: `${this.prefix}${key}` }));
      return Buffer.from((await object.Body?.transformToByteArray()) ?? []);
    } catch (error) {
      if (error instanceof NoSuchKey) return undefined;
      throw error;
    }
  }
}
