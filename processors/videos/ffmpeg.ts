/**
 * The transcoder's use of Debian's ffmpeg and ffprobe (installed by ops/toolchain/env.sh): probe a file, check it
 * against the content rules, make an H.264 rendition of a given height, and a thumbnail. Each run is a child
 * process that `signal` kills (a job aborted by revocation stops its ffmpeg too).
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);
/** Options written as one line (none has a space); files stay whole. */
const words = (options: string) => options.split(" ");

export interface Probe {
  durationMs: number;
  width: number;
  height: number;
  videoCodec: string;
}

/** What ffprobe says of the file's first video stream, or why it cannot say (not a video ffmpeg can read). */
export async function probe(file: string, signal?: AbortSignal): Promise<Probe | { unreadable: string }> {
  try {
    const entries = "stream=codec_name,width,height:format=duration";
    const { stdout } = await run(
      "ffprobe",
      [...words(`-v error -select_streams v:0 -show_entries ${entries} -of json`), file],
      {
        signal,
        maxBuffer: 1024 * 1024,
      },
    );
    const parsed = JSON.parse(stdout) as {
      streams?: { codec_name?: string; width?: number; height?: number }[];
      format?: { duration?: string };
    };
    const stream = parsed.streams?.[0];
    if (!stream?.codec_name || !stream.width || !stream.height) return { unreadable: "no video stream" };
    return {
      durationMs: Math.round(Number(parsed.format?.duration ?? 0) * 1000),
      width: stream.width,
      height: stream.height,
      videoCodec: stream.codec_name,
    };
  } catch (error) {
    if (signal?.aborted) throw error;
    // Its first line, without the file's (temporary) path.
    const stderr = String((error as { stderr?: string }).stderr ?? "")
      .replaceAll(`${file}: `, "")
      .trim()
      .split("\n")[0];
    return { unreadable: stderr || "ffprobe cannot read it" };
  }
}

export interface ContentRules {
  maxDurationMs: number;
  maxBytes: number;
}

const MAX_SIDE = 4096;

/** Why the video may not be processed, or undefined when it may. */
export function contentProblem(
  video: Probe | { unreadable: string },
  bytes: number,
  rules: ContentRules,
): string | undefined {
  if ("unreadable" in video) return `not a video ffmpeg can read: ${video.unreadable}`;
  if (bytes > rules.maxBytes) return `${bytes} bytes, more than the ${rules.maxBytes} allowed`;
  if (video.durationMs <= 0) return "no duration";
  if (video.durationMs > rules.maxDurationMs) {
    return `${Math.round(video.durationMs / 1000)} s long, more than the ${rules.maxDurationMs / 1000} s allowed`;
  }
  if (video.width > MAX_SIDE || video.height > MAX_SIDE)
    return `${video.width}x${video.height}, larger than ${MAX_SIDE}`;
  return undefined;
}

async function ffmpeg(args: string[], signal?: AbortSignal): Promise<void> {
  await run("ffmpeg", ["-nostdin", "-v", "error", "-y", ...args], { signal, maxBuffer: 1024 * 1024 });
}

const H264 = "-c:v libx264 -preset veryfast -crf 28 -pix_fmt yuv420p -c:a aac -b:a 96k -movflags +faststart";

/** An H.264 (and AAC, when there is sound) MP4 of `height` lines, the width kept in proportion. */
export function rendition(input: string, output: string, height: number, signal?: AbortSignal): Promise<void> {
  return ffmpeg(["-i", input, ...words(`-map 0:v:0 -map 0:a:0? -vf scale=-2:${height} ${H264}`), output], signal);
}

/** A JPEG of the frame a tenth of the way in, 360 lines high. */
export function thumbnail(input: string, output: string, durationMs: number, signal?: AbortSignal): Promise<void> {
  const at = (durationMs / 10 / 1000).toFixed(2);
  return ffmpeg(["-ss", at, "-i", input, ...words("-frames:v 1 -vf scale=-2:360 -q:v 4"), output], signal);
}
