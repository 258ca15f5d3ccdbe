/**
 * Sends each requested email once (ctx.once on the Redis ledger, keyed by emailId). The "mail server" here is the
 * emails_sent table. A recipient whose address contains `+flaky` fails its first attempts, as a mail server that
 * is down for a while would: the email moves through the group's retry tiers while every other email flows.
 */
import type pg from "pg";
import { newPool, RetryableError, runtimeConfig } from "../../runtime/index.ts";
import { defineProcessor } from "../define.ts";
import { domainSettings } from "../settings.ts";

let mailServer: pg.Pool | undefined;

export const sendEmail = defineProcessor({
  name: "email-sender",
  input: "emails.outbound",
  ledger: "redis",
  async handler(email, ctx) {
    const { emailId, to, template } = email.value;
    if (to.includes("+flaky") && email.attempt <= domainSettings().flakyEmailAttempts) {
      throw new RetryableError(`mail server refused ${to} (attempt ${email.attempt})`);
    }
    await ctx.once(`email:${emailId}`, async () => {
      mailServer ??= newPool({ connectionString: runtimeConfig().databaseUrl, max: 2 });
      await mailServer.query("INSERT INTO emails_sent (email_id, recipient, template) VALUES ($1, $2, $3)", [
        emailId,
        to,
        template,
      ]);
    });
    ctx.log.info({ "email.to": to, attempt: email.attempt }, "email sent");
  },
});
