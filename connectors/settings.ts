/**
 * The connectors' own settings, read from the environment once, on first use, through the runtime's config
 * helpers (a bad value is a one-line error naming the variable).
 */
import { durationVar, integerVar, textVar } from "../runtime/index.ts";
import { ConfigError } from "../topics/errors.ts";

export interface ConnectorSettings {
  /** SLUICE_LOGS_RETENTION: log indices whose whole day is older than this are deleted (daily, and `logs prune`). */
  logsRetentionMs: number;
  /** SLUICE_SHIP_LOGS_AS: the service name under which `sluice run` ships its own logs to logs.app; unset: not shipped. */
  shipLogsAs: string | undefined;
  /** Where the alert sink delivers; none configured: alerts wait on its DLQ. */
  alertWebhook: { url: string; secret: string; timeoutMs: number } | undefined;
  alertEmail: { smtpUrl: string; from: string; to: string } | undefined;
  archive: ArchiveSettings;
  /** The reference rules (connectors/alerting/default-rules.ts). */
  alertRules: {
    /** SLUICE_ALERT_ERRORS and SLUICE_ALERT_ERROR_WINDOW: this many ERRORs of a service within the window alert. */
    errorThreshold: number;
    errorWindowMs: number;
    /** SLUICE_ALERT_REPEAT: how often a firing alert is sent again while it holds. */
    repeatMs: number;
    /** SLUICE_ALERT_SILENT_SERVICES (comma-separated) alert when silent for SLUICE_ALERT_SILENCE. */
    heartbeatServices: string[];
    silenceMs: number;
    /** SLUICE_ALERT_LAG_SECONDS: a group this far behind on its input alerts (the lag monitor's events). */
    lagSeconds: number;
  };
}

export interface ArchiveSettings {
  /** ARCHIVE_TOPICS (comma-separated; default logs.app): each gets an archive sink, `archive-<topic>`. */
  topics: string[];
  /** ARCHIVE_DIR (default .sluice/archive): the local archive, and the spool of files being written to S3. */
  dir: string;
  /**
   * ARCHIVE_S3_BUCKET: archive into this bucket instead (under ARCHIVE_S3_PREFIX), at ARCHIVE_S3_ENDPOINT (an
   * S3-compatible store; default AWS) in ARCHIVE_S3_REGION; credentials the AWS SDK's way (AWS_ACCESS_KEY_ID...).
   */
  s3: { bucket: string; prefix: string; endpoint: string | undefined; region: string } | undefined;
  /** ARCHIVE_ROTATE_RECORDS, ARCHIVE_ROTATE_BYTES, ARCHIVE_ROTATE_INTERVAL (record time), ARCHIVE_IDLE_FLUSH. */
  rotation: { maxRecords: number; maxBytes: number; intervalMs: number; idleMs: number };
}

let settings: ConnectorSettings | undefined;

export function connectorSettings(): ConnectorSettings {
  const { env } = process;
  settings ??= {
    logsRetentionMs: durationVar(env, "SLUICE_LOGS_RETENTION", "7d"),
    shipLogsAs: textVar(env, "SLUICE_SHIP_LOGS_AS"),
    alertWebhook: alertWebhook(env),
    alertEmail: alertEmail(env),
    archive: {
      topics: (textVar(env, "ARCHIVE_TOPICS") ?? "logs.app")
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean),
      dir: textVar(env, "ARCHIVE_DIR") ?? ".sluice/archive",
      s3: archiveS3(env),
      rotation: {
        maxRecords: integerVar(env, "ARCHIVE_ROTATE_RECORDS", 100_000),
        maxBytes: integerVar(env, "ARCHIVE_ROTATE_BYTES", 64 * 1024 * 1024),
        intervalMs: durationVar(env, "ARCHIVE_ROTATE_INTERVAL", "1h"),
        idleMs: durationVar(env, "ARCHIVE_IDLE_FLUSH", "1m"),
      },
    },
    alertRules: {
      errorThreshold: integerVar(env, "SLUICE_ALERT_ERRORS", 50),
      errorWindowMs: durationVar(env, "SLUICE_ALERT_ERROR_WINDOW", "1m"),
      repeatMs: durationVar(env, "SLUICE_ALERT_REPEAT", "4h"),
      heartbeatServices: (textVar(env, "SLUICE_ALERT_SILENT_SERVICES") ?? "")
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean),
      silenceMs: durationVar(env, "SLUICE_ALERT_SILENCE", "5m"),
      lagSeconds: integerVar(env, "SLUICE_ALERT_LAG_SECONDS", 300),
    },
  };
  return settings;
}

/** ALERT_WEBHOOK_URL with ALERT_WEBHOOK_SECRET (the HMAC key: required), ALERT_WEBHOOK_TIMEOUT (default 10s). */
function alertWebhook(env: NodeJS.ProcessEnv): ConnectorSettings["alertWebhook"] {
  const url = textVar(env, "ALERT_WEBHOOK_URL");
  if (url === undefined) return undefined;
  const secret = textVar(env, "ALERT_WEBHOOK_SECRET");
  if (secret === undefined)
    throw new ConfigError("ALERT_WEBHOOK_URL is set: ALERT_WEBHOOK_SECRET must be too (the signing key)");
  return {
    url: checkedUrl("ALERT_WEBHOOK_URL", url, ["http:", "https:"]),
    secret,
    timeoutMs: durationVar(env, "ALERT_WEBHOOK_TIMEOUT", "10s"),
  };
}

function archiveS3(env: NodeJS.ProcessEnv): ArchiveSettings["s3"] {
  const bucket = textVar(env, "ARCHIVE_S3_BUCKET");
  if (bucket === undefined) return undefined;
  const endpoint = textVar(env, "ARCHIVE_S3_ENDPOINT");
  return {
    bucket,
    prefix: textVar(env, "ARCHIVE_S3_PREFIX") ?? "",
    endpoint: endpoint === undefined ? undefined : checkedUrl("ARCHIVE_S3_ENDPOINT", endpoint, ["http:", "https:"]),
    region: textVar(env, "ARCHIVE_S3_REGION") ?? "us-east-1",
  };
}

/** ALERT_SMTP_URL (smtp:// or smtps://, credentials in it) with ALERT_EMAIL_TO, and ALERT_EMAIL_FROM. */
function alertEmail(env: NodeJS.ProcessEnv): ConnectorSettings["alertEmail"] {
  const smtpUrl = textVar(env, "ALERT_SMTP_URL");
  if (smtpUrl === undefined) return undefined;
  const to = textVar(env, "ALERT_EMAIL_TO");
  if (to === undefined) throw new ConfigError("ALERT_SMTP_URL is set: ALERT_EMAIL_TO must say who gets the alerts");
  return {
    smtpUrl: checkedUrl("ALERT_SMTP_URL", smtpUrl, ["smtp:", "smtps:"]),
    from: textVar(env, "ALERT_EMAIL_FROM") ?? "sluice-alerts@localhost",
    to,
  };
}

function checkedUrl(name: string, value: string, protocols: readonly string[]): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`${name} must be a URL (${protocols.join(" or ")}//...)`);
  }
  if (!protocols.includes(url.protocol)) throw new ConfigError(`${name} must start with ${protocols.join(" or ")}//`);
  return value;
}
