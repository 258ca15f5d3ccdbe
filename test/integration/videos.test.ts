/**
 * Asynchronous video processing on the real stack, with real ffmpeg: an upload answers PROCESSING at once, two
 * transcoder workers share the work in the background, the read model goes READY (renditions ffprobe reads as
 * 360p and 720p H.264, a thumbnail) or FAILED (a corrupt file, with its reason), the uploader gets an email, and a
 * worker SIGKILLed mid-transcode leaves its job to the other, which ends it READY once. The media store is the
 * stack's S3Proxy here (the demo uses the local directory).
 */
import { execFile, execFileSync } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runtimeConfig } from "../../runtime/index.ts";
import { consumeUntil } from "../support/kafka.ts";
import { eventually } from "../support/runtime.ts";
import { killChildren, startRelay, startService } from "../support/services.ts";
import { killStrays, type RunningHost, startSluiceRun } from "../support/sluice-run.ts";

const MEDIA = {
  MEDIA_S3_BUCKET: "sluice-test-media",
  MEDIA_S3_ENDPOINT: process.env.S3_ENDPOINT || "http://127.0.0.1:8333",
  MEDIA_S3_PREFIX: `run-${randomUUID().slice(0, 8)}`,
};
const db = new pg.Pool({ connectionString: runtimeConfig().databaseUrl });
const work = mkdtempSync(path.join(tmpdir(), "sluice-videos-test-"));
const userId = `uploader-${randomUUID().slice(0, 8)}`;
let videos: string;
const workers: RunningHost[] = [];

/** A test-pattern video with a tone, `seconds` long, 1280x720. */
function testVideo(name: string, seconds: number): string {
  const file = path.join(work, name);
  execFileSync("ffmpeg", [
    ...["-v", "error", "-y", "-f", "lavfi", "-i", `testsrc=size=1280x720:rate=25:duration=${seconds}`],
    ...["-f", "lavfi", "-i", `sine=frequency=440:duration=${seconds}`, "-shortest"],
    ...["-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", file],
  ]);
  return file;
}

async function upload(file: string): Promise<{ videoId: string; status: string }> {
  const form = new FormData();
  form.append("userId", userId);
  form.append("file", new Blob([readFileSync(file)]), path.basename(file));
  const response = await fetch(`${videos}/videos`, { method: "POST", body: form });
  expect(response.status).toBe(202);
  return (await response.json()) as { videoId: string; status: string };
}

type Video = {
  status: string;
  reason?: string;
  renditions?: { resolution: string; url: string }[];
  thumbnailUrl?: string;
};
const video = async (videoId: string) => (await (await fetch(`${videos}/videos/${videoId}`)).json()) as Video;
const settled = async (videoId: string) => {
  expect(await eventually(async () => (await video(videoId)).status !== "PROCESSING", 120_000)).toBe(true);
  return video(videoId);
};

function ffprobe(file: string): { codec: string; height: number } {
  const [codec, height] = execFileSync("ffprobe", [
    ...["-v", "error", "-select_streams", "v:0", "-show_entries", "stream=codec_name,height", "-of", "csv=p=0", file],
  ])
    .toString()
    .trim()
    .split(",");
  return { codec: codec ?? "", height: Number(height) };
}

/** A worker; each has its own instance id (its static membership and transactional ids), kept across restarts. */
const transcoder = (name: string) =>
  startSluiceRun(["video-transcoder"], { ...MEDIA, SLUICE_INSTANCE_ID: `${name}-${MEDIA.MEDIA_S3_PREFIX}` });

beforeAll(async () => {
  startRelay();
  const users = (await startService("users")).url;
  videos = (await startService("videos", MEDIA)).url;
  const others = startSluiceRun(["video-status", "user-directory", "email-sender"], MEDIA);
  workers.push(transcoder("worker-0"), transcoder("worker-1"));
  await Promise.all([others, ...workers].map((h) => h.ready()));
  const response = await fetch(`${users}/users/${userId}/status`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ status: "ACTIVE", email: `${userId}@shop.test` }),
  });
  expect(response.status).toBe(200);
}, 180_000);

afterAll(async () => {
  killChildren();
  await killStrays();
  await db.end();
  rmSync(work, { recursive: true, force: true });
});

const emailed = async (template: string, videoId: string) =>
  (await db.query("SELECT recipient FROM emails_sent WHERE email_id = $1", [`${template}:${videoId}`])).rows;

describe("video processing", () => {
  it("answers PROCESSING at once, then READY: 360p and 720p H.264 renditions, a thumbnail, and an email", async () => {
    const { videoId, status } = await upload(testVideo("ok.mp4", 3));
    expect(status).toBe("PROCESSING");
    expect((await video(videoId)).status).toBe("PROCESSING");
    const ready = await settled(videoId);
    expect(ready.status).toBe("READY");
    expect(ready.renditions?.map((r) => r.resolution)).toEqual(["360p", "720p"]);
    for (const r of ready.renditions ?? []) {
      const file = path.join(work, `${videoId}-${r.resolution}.mp4`);
      writeFileSync(file, Buffer.from(await (await fetch(`${videos}${r.url}`)).arrayBuffer()));
      expect(ffprobe(file)).toEqual({ codec: "h264", height: Number.parseInt(r.resolution, 10) });
    }
    const thumbnail = await fetch(`${videos}${ready.thumbnailUrl}`);
    expect(thumbnail.headers.get("content-type")).toBe("image/jpeg");
    expect(Buffer.from(await thumbnail.arrayBuffer()).subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]));
    expect(await eventually(async () => (await emailed("video-ready", videoId)).length === 1)).toBe(true);
  }, 180_000);

  it("marks a corrupt upload FAILED with its reason, once, and tells the uploader", async () => {
    const corrupt = path.join(work, "corrupt.mp4");
    writeFileSync(corrupt, randomBytes(200_000));
    const { videoId } = await upload(corrupt);
    const failed = await settled(videoId);
    expect(failed.status).toBe("FAILED");
    expect(failed.reason).toBe("not a video ffmpeg can read: Invalid data found when processing input");
    expect(await eventually(async () => (await emailed("video-failed", videoId)).length === 1)).toBe(true);
  }, 180_000);

  it("shares the uploads between its two workers", async () => {
    const file = testVideo("short.mp4", 1);
    const uploaded = await Promise.all(Array.from({ length: 12 }, () => upload(file)));
    for (const { videoId } of uploaded) expect((await settled(videoId)).status).toBe("READY");
    const jobs = await Promise.all(
      workers.map(async (worker) => {
        const metrics = await (await fetch(`http://127.0.0.1:${worker.port}/metrics`)).text();
        return Number(
          /sluice_records_consumed_total\{processor="video-transcoder",topic="videos\.uploaded"\} (\d+)/.exec(
            metrics,
          )?.[1] ?? 0,
        );
      }),
    );
    console.log(`videos: the two workers transcoded ${jobs.join(" and ")} videos since they started`);
    expect(jobs.every((n) => n > 0)).toBe(true);
  }, 240_000);

  it("redoes a transcode whose worker is SIGKILLed midway, and it ends READY once", async () => {
    const { videoId } = await upload(testVideo("long.mp4", 30));
    // The worker running its ffmpeg is the parent of that process.
    let ffmpegParent = 0;
    expect(
      await eventually(async () => {
        const found = await promisify(execFile)("pgrep", ["-f", `sluice-video-${videoId}`]).catch(() => ({
          stdout: "",
        }));
        const pid = found.stdout.trim().split("\n")[0];
        if (pid) ffmpegParent = Number(readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ")[1]);
        return workers.some((w) => w.process.pid === ffmpegParent);
      }, 60_000),
    ).toBe(true);
    const victim = workers.findIndex((w) => w.process.pid === ffmpegParent);
    await workers[victim]?.kill();
    execFileSync("pkill", ["-KILL", "-f", `sluice-video-${videoId}`]); // its orphaned ffmpeg too
    workers[victim] = transcoder(`worker-${victim}`);
    const ready = await settled(videoId);
    expect(ready.status).toBe("READY");
    const outcomes = await consumeUntil("videos.processed", (rs) => rs.some((r) => r.key === videoId), 30_000, 5_000);
    expect(outcomes.filter((r) => r.key === videoId)).toHaveLength(1);
  }, 240_000);
});
