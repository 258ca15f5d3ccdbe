/**
 * `video-transcoder`: each uploaded video is checked (ffprobe: a readable video stream, its duration, size and
 * dimensions within the rules), then transcoded by ffmpeg into two H.264 renditions (360p, 720p) and a thumbnail,
 * all stored in the media store, and the outcome published on videos.processed: READY with the renditions, or
 * FAILED with the reason a video that breaks the rules or cannot be read has (a business outcome, not a retry).
 *
 * A transcode takes minutes, so the processor is long-running (runtime: the job runs outside the poll loop, its
 * partition paused): the member is never evicted, and a job whose partition is revoked (a worker gone, another
 * joined) is aborted, its ffmpeg killed, and run again by the new owner. Exactly-once: the outcome is written with
 * the offset, so a job run again publishes it once. A worker transcodes one video at a time; run as many workers
 * as partitions (6) to share the work.
 */
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { RetryableError } from "../../runtime/index.ts";
import { defineProcessor } from "../define.ts";
import { domainSettings } from "../settings.ts";
import { contentProblem, probe, rendition, thumbnail } from "./ffmpeg.ts";
import { mediaStore, renditionKey, thumbnailKey } from "./media-store.ts";

export const RENDITIONS = [
  { resolution: "360p", height: 360 },
  { resolution: "720p", height: 720 },
] as const;

export const transcodeVideo = defineProcessor({
  name: "video-transcoder",
  input: "videos.uploaded",
  outputs: ["videos.processed"],
  delivery: "exactly-once",
  longRunning: true,
  // ffmpeg uses every core it finds: one transcode at a time per worker; more workers for more at once.
  jobsAtOnce: 1,
  handlerTimeout: "30m",
  retryTiers: ["30s", "5m"],
  async handler({ value: upload }, ctx) {
    const { videoId, sourceUri } = upload;
    const store = mediaStore();
    const work = await mkdtemp(path.join(tmpdir(), `sluice-video-${videoId}-`));
    try {
      const source = path.join(work, "source");
      if (!(await store.getFile(sourceUri, source))) {
        throw new RetryableError(`video ${videoId}: no source at ${sourceUri} in ${store.description}`);
      }
      const { videoMaxBytes, videoMaxDurationMs } = domainSettings();
      const video = await probe(source, ctx.signal);
      const problem = contentProblem(video, (await stat(source)).size, {
        maxBytes: videoMaxBytes,
        maxDurationMs: videoMaxDurationMs,
      });
      const failed = async (reason: string) => {
        ctx.log.info({ "video.id": videoId, reason }, "video refused");
        await ctx.send("videos.processed", videoId, {
          videoId,
          renditions: [],
          durationMs: 0n,
          processedAt: BigInt(ctx.clock.now()),
          status: "FAILED",
          reason,
          thumbnailUri: "",
        });
      };
      if (problem || "unreadable" in video) return failed(problem ?? "unreadable");
      const renditions = [];
      try {
        for (const { resolution, height } of RENDITIONS) {
          const file = path.join(work, `${resolution}.mp4`);
          await rendition(source, file, height, ctx.signal);
          await store.putFile(renditionKey(videoId, resolution), file);
          renditions.push({ resolution, uri: renditionKey(videoId, resolution) });
        }
        const thumb = path.join(work, "thumbnail.jpg");
        await thumbnail(source, thumb, video.durationMs, ctx.signal);
        await store.putFile(thumbnailKey(videoId), thumb);
      } catch (error) {
        // A file ffprobe reads but ffmpeg cannot transcode fails the same way on every attempt.
        const stderr = (error as { stderr?: string }).stderr;
        if (ctx.signal.aborted || stderr === undefined) throw error;
        return failed(`ffmpeg could not transcode it: ${stderr.trim().split("\n")[0] ?? ""}`);
      }
      ctx.log.info({ "video.id": videoId, "video.duration_ms": video.durationMs }, "video transcoded");
      await ctx.send("videos.processed", videoId, {
        videoId,
        renditions,
        durationMs: BigInt(video.durationMs),
        processedAt: BigInt(ctx.clock.now()),
        status: "READY",
        reason: null,
        thumbnailUri: thumbnailKey(videoId),
      });
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  },
});
