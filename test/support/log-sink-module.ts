/**
 * A `sluice run --module` of the Elasticsearch log sink on a test's own topic of LogEvents, so a test can run it
 * as production does (a child process it can SIGKILL). TEST_LOG_TOPIC names the topic, TEST_LOG_SINK the sink.
 */
import { logSink } from "../../connectors/elasticsearch/log-sink.ts";
import { testTopicSpec } from "./topics.ts";

const input = process.env.TEST_LOG_TOPIC ?? "";
export const topics = [testTopicSpec(input, { valueSchema: "sluice.logs.LogEvent", key: "appId" })];
export const processors = [logSink({ name: process.env.TEST_LOG_SINK ?? "log-sink-test", input })];
