/**
 * Keeps the user directory in sync with the user service: each users.status change is applied once (ctx.once by
 * event id, in the same PostgreSQL transaction as the row) and only if its version is newer than the row's.
 */
import { transactionOf } from "../../runtime/index.ts";
import { defineProcessor } from "../define.ts";
import { applyUserChange, changeEventId, userDirectory } from "./directory.ts";

export const syncUsers = defineProcessor({
  name: "user-directory",
  input: "users.status",
  retryTiers: ["5s", "1m"],
  ledger: "postgres",
  async handler(change, ctx) {
    const eventId = changeEventId(change.headers, { ...change, topic: change.sourceTopic });
    const applied = await ctx.once(`user:${eventId}`, (scope) =>
      applyUserChange(transactionOf(scope), change.value, eventId),
    );
    if (applied) userDirectory().remember(applied);
    else
      ctx.log.debug(
        { "user.id": change.value.userId, version: String(change.value.version) },
        "older user change ignored",
      );
  },
});
