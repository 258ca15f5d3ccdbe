/**
 * `video-status`: applies each videos.processed outcome to the videos table (the read model behind GET
 * /videos/:videoId: PROCESSING until now, then READY with its renditions and thumbnail, or FAILED with its
 * reason), and asks for an email to the uploader (`video-ready` or `video-failed`) at the address the user
 * directory has. The update applies once (only to a PROCESSING row), and the email's id is derived from the video,
 * so an outcome delivered again changes nothing and sends nothing twice. An uploader the directory does not have
 * yet waits in the retry tiers, as the order confirmation's does.
 */
import type pg from "pg";
import { newPool, PermanentError, runtimeConfig } from "../../runtime/index.ts";
import { defineProcessor } from "../define.ts";
import { emailAddressOf } from "../user-directory/directory.ts";

let db: pg.Pool | undefined;

export const videoStatus = defineProcessor({
  name: "video-status",
  input: "videos.processed",
  outputs: ["emails.outbound"],
  delivery: "exactly-once",
  retryTiers: ["5s", "30s", "2m", "10m"],
  async handler({ value: outcome }, ctx) {
    const { videoId, status } = outcome;
    db ??= newPool({ connectionString: runtimeConfig().databaseUrl, max: 2 });
    await db.query(
      `UPDATE videos SET status = $2, renditions = $3, thumbnail_uri = $4, reason = $5, duration_ms = $6,
              processed_at = $7
       WHERE video_id = $1 AND status = 'PROCESSING'`,
      [
        videoId,
        status,
        JSON.stringify(outcome.renditions),
        outcome.thumbnailUri || null,
        outcome.reason,
        String(outcome.durationMs),
        new Date(Number(outcome.processedAt)),
      ],
    );
    const { rows } = await db.query<{ user_id: string }>("SELECT user_id FROM videos WHERE video_id = $1", [videoId]);
    const userId = rows[0]?.user_id;
    if (!userId)
      throw new PermanentError(`video ${videoId} was never uploaded through the video service`, "UNKNOWN_VIDEO");
    const to = await emailAddressOf(userId, `video ${videoId}`);
    if (!to) return;
    const template = status === "READY" ? "video-ready" : "video-failed";
    const emailId = `${template}:${videoId}`;
    await ctx.send("emails.outbound", emailId, {
      emailId,
      to,
      template,
      orderId: null,
      variables: { videoId, ...(outcome.reason ? { reason: outcome.reason } : {}) },
      requestedAt: BigInt(ctx.clock.now()),
    });
  },
});
