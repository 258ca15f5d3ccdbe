/**
 * The video of the README's run command: a 5-second test pattern made with ffmpeg, uploaded to the video service
 * (:9440) for a demo customer, answered PROCESSING at once, then followed until the transcoder and the
 * video-status processor have it READY (its renditions and thumbnail in the media store, .sluice/media), and the
 * customer's `video-ready` email sent.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { runtimeConfig } from "../../runtime/index.ts";

const VIDEOS = process.env.SLUICE_VIDEOS_URL || "http://127.0.0.1:9440";
const USER = "user-100"; // one of demo-traffic's customers: the user directory has their address

const work = mkdtempSync(path.join(tmpdir(), "sluice-demo-video-"));
const file = path.join(work, "demo.mp4");
execFileSync("ffmpeg", [
  ...["-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=1280x720:rate=25:duration=5"],
  ...["-f", "lavfi", "-i", "sine=frequency=440:duration=5", "-shortest", "-c:v", "libx264", "-preset", "ultrafast"],
  ...["-c:a", "aac", file],
]);
const form = new FormData();
form.append("userId", USER);
form.append("file", new Blob([readFileSync(file)]), "demo.mp4");
const started = Date.now();
const answer = (await (await fetch(`${VIDEOS}/videos`, { method: "POST", body: form })).json()) as {
  videoId: string;
  status: string;
};
rmSync(work, { recursive: true, force: true });
console.log(`[video] POST /videos (5 s, 1280x720) answered in ${Date.now() - started} ms: ${JSON.stringify(answer)}`);

type Video = { status: string; renditions?: { url: string }[]; thumbnailUrl?: string; reason?: string };
let video: Video = answer;
for (let tries = 0; tries < 240 && video.status === "PROCESSING"; tries++) {
  await new Promise((resolve) => setTimeout(resolve, 250));
  video = (await (await fetch(`${VIDEOS}/videos/${answer.videoId}`)).json()) as Video;
}
console.log(
  `[video] GET /videos/${answer.videoId} after ${((Date.now() - started) / 1000).toFixed(1)}s: ${video.status}`,
);
if (video.status === "READY") {
  for (const url of [...(video.renditions ?? []).map((r) => r.url), video.thumbnailUrl])
    console.log(`[video]   ${VIDEOS}${url}`);
} else {
  console.log(`[video]   ${video.reason ?? "still processing: see the processors' log"}`);
}
const db = new pg.Pool({ connectionString: runtimeConfig().databaseUrl, max: 1 });
for (let tries = 0; tries < 40; tries++) {
  const { rows } = await db.query("SELECT recipient FROM emails_sent WHERE email_id = $1", [
    `video-ready:${answer.videoId}`,
  ]);
  if (rows[0]) {
    console.log(`[video] video-ready email sent to ${rows[0].recipient}`);
    break;
  }
  await new Promise((resolve) => setTimeout(resolve, 250));
}
await db.end();
