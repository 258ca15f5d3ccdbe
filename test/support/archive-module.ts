/**
 * A `sluice run --module` of the archive sink on a test's own topic of LogEvents, so a test can run it as
 * production does (a child process it can SIGKILL): TEST_ARCHIVE_TOPIC, TEST_ARCHIVE_SINK, and TEST_ARCHIVE_DIR or
 * TEST_ARCHIVE_S3_PREFIX (in the bucket TEST_ARCHIVE_S3_BUCKET of the stack's S3Proxy) say where;
 * TEST_ARCHIVE_MAX_RECORDS and TEST_ARCHIVE_IDLE_MS change the test rotation (the bench's).
 */
import { archiveSink } from "../../connectors/archive/archive-sink.ts";
import { archiveTestStore, TEST_ROTATION } from "./archive.ts";
import { testTopicSpec } from "./topics.ts";

const topic = testTopicSpec(process.env.TEST_ARCHIVE_TOPIC ?? "", {
  valueSchema: "sluice.logs.LogEvent",
  key: "appId",
});
export const topics = [topic];
export const processors = [
  archiveSink({
    topic,
    name: process.env.TEST_ARCHIVE_SINK ?? "archive-test",
    store: archiveTestStore(process.env),
    rotation: {
      ...TEST_ROTATION,
      ...(process.env.TEST_ARCHIVE_MAX_RECORDS ? { maxRecords: Number(process.env.TEST_ARCHIVE_MAX_RECORDS) } : {}),
      ...(process.env.TEST_ARCHIVE_IDLE_MS ? { idleMs: Number(process.env.TEST_ARCHIVE_IDLE_MS) } : {}),
    },
  }),
];
