/**
 * The reference domain's own settings, read from the environment once, on first use, through the runtime's
 * config helpers (a bad value is a one-line error naming the variable). `sluice run` reads them before it starts
 * anything, so a bad value stops it there rather than failing every record in a handler.
 */
import path from "node:path";
import { durationVar, integerVar, textVar } from "../runtime/index.ts";

export interface DomainSettings {
  /** SLUICE_ORDER_TIMEOUT: how long a customer has to pay (the demo uses 10s). */
  paymentTimeoutMs: number;
  /** SLUICE_FLAKY_EMAIL_ATTEMPTS: how many attempts a `+flaky` recipient's mail server refuses. */
  flakyEmailAttempts: number;
  /** SLUICE_INITIAL_STOCK: a SKU's stock the first time an order mentions it (the demo has no restocking). */
  initialStock: number;
  /** SLUICE_FLASHSALE_WRITE_RATE: flash-sale orders the writer writes a second at most, whatever the burst. */
  flashSaleWriteRate: number;
  /** MEDIA_DIR: where uploaded videos and their renditions are kept (default .sluice/media), unless MEDIA_S3_BUCKET. */
  mediaDir: string;
  /**
   * MEDIA_S3_BUCKET: keep them in this bucket instead (under MEDIA_S3_PREFIX), at MEDIA_S3_ENDPOINT (an
   * S3-compatible store; default AWS) in MEDIA_S3_REGION; credentials the AWS SDK's way.
   */
  mediaS3: { bucket: string; prefix: string; endpoint: string | undefined; region: string } | undefined;
  /** VIDEO_MAX_BYTES: the largest upload taken (default 500 MB). */
  videoMaxBytes: number;
  /** VIDEO_MAX_DURATION: the longest video processed (default 10m); a longer one is FAILED. */
  videoMaxDurationMs: number;
}

let settings: DomainSettings | undefined;

export function domainSettings(): DomainSettings {
  const { env } = process;
  settings ??= {
    paymentTimeoutMs: durationVar(env, "SLUICE_ORDER_TIMEOUT", "30m"),
    flakyEmailAttempts: integerVar(env, "SLUICE_FLAKY_EMAIL_ATTEMPTS", 2, { min: 0 }),
    initialStock: integerVar(env, "SLUICE_INITIAL_STOCK", 1_000_000),
    flashSaleWriteRate: integerVar(env, "SLUICE_FLASHSALE_WRITE_RATE", 200, { min: 1 }),
    mediaDir: path.resolve(textVar(env, "MEDIA_DIR") ?? ".sluice/media"),
    mediaS3: mediaS3(env),
    videoMaxBytes: integerVar(env, "VIDEO_MAX_BYTES", 500 * 1024 * 1024, { min: 1 }),
    videoMaxDurationMs: durationVar(env, "VIDEO_MAX_DURATION", "10m"),
  };
  return settings;
}

function mediaS3(env: NodeJS.ProcessEnv): DomainSettings["mediaS3"] {
  const bucket = textVar(env, "MEDIA_S3_BUCKET");
  if (bucket === undefined) return undefined;
  return {
    bucket,
    prefix: textVar(env, "MEDIA_S3_PREFIX") ?? "",
    endpoint: textVar(env, "MEDIA_S3_ENDPOINT"),
    region: textVar(env, "MEDIA_S3_REGION") ?? "us-east-1",
  };
}
