/** The archive's test targets: a directory, or a prefix of a bucket on the stack's S3Proxy. */
import path from "node:path";
import type { ArchiveStore } from "../../connectors/archive/archive-store.ts";
import { DirectoryStore } from "../../connectors/archive/archive-store.ts";
import type { Rotation } from "../../connectors/archive/archive-writer.ts";
import { S3Store } from "../../connectors/archive/s3-store.ts";
import { LOCAL_S3_ENDPOINT } from "../../ops/stack/components/s3proxy.ts";

/** Files cut by count only while a test runs: no idle flush, and the hour rotation is the only other. */
export const TEST_ROTATION: Partial<Rotation> = { maxRecords: 500, idleMs: 600_000 };

export function archiveTestStore(env: NodeJS.ProcessEnv): ArchiveStore {
  if (env.TEST_ARCHIVE_S3_PREFIX)
    return s3TestStore(env.TEST_ARCHIVE_S3_BUCKET ?? "", env.TEST_ARCHIVE_S3_PREFIX, env.TEST_ARCHIVE_DIR ?? "");
  return new DirectoryStore(env.TEST_ARCHIVE_DIR ?? "");
}

export function s3TestStore(bucket: string, prefix: string, spoolRoot: string): S3Store {
  return new S3Store(
    { bucket, prefix, endpoint: LOCAL_S3_ENDPOINT, region: "us-east-1" },
    path.join(spoolRoot, "spool"),
  );
}
