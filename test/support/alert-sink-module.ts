/**
 * A `sluice run --module` of the alert sink on a test's own topic of Alerts, delivering to the receivers the
 * environment configures (ALERT_WEBHOOK_URL, ALERT_SMTP_URL, ...). TEST_ALERT_TOPIC names the topic, TEST_ALERT_SINK
 * the sink.
 */
import { alertSink } from "../../connectors/alerting/alert-sink.ts";
import { testTopicSpec } from "./topics.ts";

const input = process.env.TEST_ALERT_TOPIC ?? "";
export const topics = [testTopicSpec(input, { valueSchema: "sluice.alerts.Alert", key: "alertId" })];
export const processors = [alertSink({ name: process.env.TEST_ALERT_SINK ?? "alert-sink-test", input })];
