/**
 * No credential in a log line or an error message: the environment's credentials (by their variables' names, and
 * the passwords of URL-valued ones) and any URL's password become `***`, in every line a runtime logger writes.
 */
import { Writable } from "node:stream";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { loggerOptions, redactText, secretValues } from "../../../runtime/index.ts";

const env = {
  DATABASE_URL: "postgres://sluice:pg-Pa55word@db.internal:5432/shop",
  REDIS_URL: "redis://default:r3dis%2Fpass@cache:6379",
  SMTP_PASSWORD: "smtp-hunter2",
  ALERT_WEBHOOK_SECRET: "whsec-0123456789",
  MEDIA_S3_SECRET_ACCESS_KEY: "AKIA-secret-key-value",
  KAFKA_BROKERS: "kafka-1:9092,kafka-2:9092",
  SLUICE_INSTANCE_ID: "inventory-0",
  SHORT_TOKEN: "abc",
};

describe("secrets", () => {
  it("are the credential variables' values and the URL passwords, nothing else", () => {
    expect(secretValues(env).sort()).toEqual(
      ["AKIA-secret-key-value", "pg-Pa55word", "r3dis%2Fpass", "r3dis/pass", "smtp-hunter2", "whsec-0123456789"].sort(),
    );
  });

  it("are replaced wherever they appear, and so is any URL's password", () => {
    const secrets = secretValues(env);
    const text =
      "connect to postgres://sluice:pg-Pa55word@db.internal:5432/shop failed; webhook key whsec-0123456789; " +
      "smtp login smtp-hunter2 refused; registry http://ops:other-pw@registry:8081 (kafka-1:9092)";
    const out = redactText(text, secrets);
    for (const secret of [...secrets, "other-pw"]) expect(out).not.toContain(secret);
    expect(out).toContain("postgres://sluice:***@db.internal:5432/shop");
    expect(out).toContain("http://ops:***@registry:8081");
    expect(out).toContain("kafka-1:9092"); // what is not a credential stays
  });

  it("never reach a runtime logger's output: fields, messages, errors", () => {
    Object.assign(process.env, env);
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const log = pino(loggerOptions("test", "info"), sink);
    log.info({ password: "field-pass-1", config: { token: "nested-token-2" } }, "configured");
    log.error({ err: new Error(`auth failed for ${env.DATABASE_URL}`) }, "cannot connect with smtp-hunter2");
    log.warn({ url: "https://user:inline-pw@hooks.example.com/x" }, "delivery failed");
    const all = lines.join("");
    expect(lines).toHaveLength(3);
    for (const secret of ["field-pass-1", "nested-token-2", "pg-Pa55word", "smtp-hunter2", "inline-pw"]) {
      expect(all).not.toContain(secret);
    }
    expect(all).toContain("auth failed for postgres://sluice:***@db.internal");
  });
});
