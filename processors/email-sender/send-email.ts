/**
 * Sends each requested email once (ctx.once on the Redis ledger, keyed by emailId). The "mail server" here is the
 * emails_sent table. A recipient whose address contains `+flaky` fails its first attempts, as a mail server that
 * is down for a while would: the email moves through the group's retry tiers while every other email flows.
 */
import pg from "pg";
import { endpointsFromEnv } from "../runtime/endpoints.ts";
import { RetryableError } from "../runtime/failure.ts";
import { defineProcessor } from "../runtime/processor.ts";

let mailServer: pg.Pool | undefined;
const FLAKY_ATTEMPTS = Number(process.env.SLUICE_FLAKY_EMAIL_ATTEMPTS || 2);

export const sendEmail = defineProcessor({
  name: "email-sender",
  group: "email-sender",
  input: "emails.outbound",
  outputs: [],
  delivery: "at-least-once",
  retry: "non-blocking",
  keyConcurrency: 16,
  ledger: "redis",
  async handler(email, ctx) {
    const { emailId, to, template } = email.value;
    if (to.includes("+flaky") && email.attempt <= FLAKY_ATTEMPTS) {
      throw new RetryableError(`mail server refused ${to} (attempt ${email.attempt})`);
    }
    await ctx.once(`email:${emailId}`, async () => {
      mailServer ??= new pg.Pool({ connectionString: endpointsFromEnv().databaseUrl, max: 2 });
      await mailServer.query("INSERT INTO emails_sent (email_id, recipient, template) VALUES ($1, $2, $3)", [
        emailId,
        to,
        template,
      ]);
    });
    ctx.log.info({ "email.to": to, attempt: email.attempt }, "email sent");
  },
});
