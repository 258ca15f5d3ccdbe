/**
 * The video service: `POST /videos` takes a multipart upload (a `userId` field and a `file`), streams the file to
 * disk and into the media store, then in one transaction records the video as PROCESSING and publishes
 * videos.uploaded through the outbox, and answers 202 `{videoId, status: "PROCESSING"}` at once: the transcoder
 * works in the background. `GET /videos/:videoId` answers from the read model the video-status processor keeps:
 * PROCESSING, READY (rendition and thumbnail URLs) or FAILED (the reason); the thumbnail and renditions are
 * served from the media store.
 */
import { randomUUID } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import multipart from "@fastify/multipart";
import type { FastifyInstance, FastifyReply } from "fastify";
import type pg from "pg";
import type { Logger } from "pino";
import type { Outbox } from "../../connectors/outbox-relay/outbox.ts";
import { type MediaStore, renditionKey, sourceKey, thumbnailKey } from "../../processors/videos/media-store.ts";
import { RENDITIONS } from "../../processors/videos/transcode-video.ts";
import { inTransaction, type Metrics } from "../../runtime/index.ts";
import { httpService, problem } from "../http-service.ts";

export interface VideoServiceDeps {
  db: pg.Pool;
  outbox: Outbox;
  store: MediaStore;
  log: Logger;
  metrics: Metrics;
  /** The largest upload taken (VIDEO_MAX_BYTES): past it, 413. */
  maxBytes: number;
}

interface VideoRow {
  video_id: string;
  user_id: string;
  status: "PROCESSING" | "READY" | "FAILED";
  size_bytes: string;
  renditions: { resolution: string; uri: string }[];
  thumbnail_uri: string | null;
  reason: string | null;
  duration_ms: string | null;
  uploaded_at: Date;
}

const id = { type: "string", minLength: 1, maxLength: 200 } as const;
const videoParams = { type: "object", required: ["videoId"], properties: { videoId: id } } as const;
const renditionParams = {
  type: "object",
  required: ["videoId", "file"],
  properties: { videoId: id, file: { type: "string", enum: RENDITIONS.map((r) => `${r.resolution}.mp4`) } },
} as const;

export function videoService({ db, outbox, store, log, metrics, maxBytes }: VideoServiceDeps): FastifyInstance {
  const app = httpService({ log, metrics, ready: async () => (await db.query("SELECT 1")).rowCount === 1 });
  app.register(multipart, { limits: { fileSize: maxBytes, files: 1, fields: 4 } });

  app.post("/videos", async (request, reply) => {
    if (!request.isMultipart()) {
      return reply.code(415).send(problem("NOT_MULTIPART", "send the video as multipart/form-data (userId, file)"));
    }
    const work = await mkdtemp(path.join(tmpdir(), "sluice-upload-"));
    try {
      const upload = path.join(work, "source");
      let userId: string | undefined;
      let received = false;
      for await (const part of request.parts()) {
        if (part.type === "field" && part.fieldname === "userId" && typeof part.value === "string") userId = part.value;
        if (part.type === "file" && part.fieldname === "file") {
          await pipeline(part.file, createWriteStream(upload));
          if (part.file.truncated) {
            return reply.code(413).send(problem("VIDEO_TOO_LARGE", `a video may have ${maxBytes} bytes at most`));
          }
          received = true;
        }
      }
      if (!userId || userId.length > 200) return reply.code(400).send(problem("BAD_REQUEST", "userId is missing"));
      if (!received) return reply.code(400).send(problem("BAD_REQUEST", "the file part is missing"));
      const videoId = randomUUID();
      const { size } = await stat(upload);
      await store.putFile(sourceKey(videoId), upload);
      await inTransaction(db, async (tx) => {
        await tx.query("INSERT INTO videos (video_id, user_id, size_bytes) VALUES ($1, $2, $3)", [
          videoId,
          userId,
          size,
        ]);
        await outbox.publish(tx, "videos.uploaded", videoId, {
          videoId,
          userId,
          sourceUri: sourceKey(videoId),
          sizeBytes: BigInt(size),
          uploadedAt: BigInt(Date.now()),
        });
      });
      request.log.info({ "video.id": videoId, "video.bytes": size }, "video uploaded");
      return reply.code(202).header("location", `/videos/${videoId}`).send({ videoId, status: "PROCESSING" });
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });

  app.get<{ Params: { videoId: string } }>(
    "/videos/:videoId",
    { schema: { params: videoParams } },
    async (request, reply) => {
      const { rows } = await db.query<VideoRow>("SELECT * FROM videos WHERE video_id = $1", [request.params.videoId]);
      const video = rows[0];
      if (!video) return reply.code(404).send(problem("NO_SUCH_VIDEO", "there is no such video"));
      const base = `/videos/${video.video_id}`;
      return {
        videoId: video.video_id,
        userId: video.user_id,
        status: video.status,
        sizeBytes: Number(video.size_bytes),
        uploadedAt: video.uploaded_at.toISOString(),
        ...(video.status === "READY"
          ? {
              durationMs: Number(video.duration_ms),
              renditions: video.renditions.map((r) => ({
                resolution: r.resolution,
                url: `${base}/renditions/${r.resolution}.mp4`,
              })),
              thumbnailUrl: `${base}/thumbnail.jpg`,
            }
          : {}),
        ...(video.status === "FAILED" ? { reason: video.reason } : {}),
      };
    },
  );

  const serve = async (reply: FastifyReply, key: string, type: string) => {
    const body = await store.read(key);
    if (!body) return reply.code(404).send(problem("NOT_READY", "no such file (yet)"));
    return reply.type(type).send(body);
  };
  app.get<{ Params: { videoId: string } }>(
    "/videos/:videoId/thumbnail.jpg",
    { schema: { params: videoParams } },
    (request, reply) => serve(reply, thumbnailKey(request.params.videoId), "image/jpeg"),
  );
  app.get<{ Params: { videoId: string; file: string } }>(
    "/videos/:videoId/renditions/:file",
    { schema: { params: renditionParams } },
    (request, reply) =>
      serve(reply, renditionKey(request.params.videoId, request.params.file.replace(/\.mp4$/, "")), "video/mp4"),
  );
  return app;
}
