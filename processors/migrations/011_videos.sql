-- Videos (services/videos, processors/videos): each upload as the video service recorded it, PROCESSING until the
-- video-status processor applies its videos.processed outcome (READY with renditions and thumbnail, or FAILED).
CREATE TABLE IF NOT EXISTS videos (
  video_id      text        PRIMARY KEY,
  user_id       text        NOT NULL,
  status        text        NOT NULL DEFAULT 'PROCESSING' CHECK (status IN ('PROCESSING', 'READY', 'FAILED')),
  size_bytes    bigint      NOT NULL,
  renditions    jsonb       NOT NULL DEFAULT '[]',
  thumbnail_uri text,
  reason        text,
  duration_ms   bigint,
  uploaded_at   timestamptz NOT NULL DEFAULT now(),
  processed_at  timestamptz
);
