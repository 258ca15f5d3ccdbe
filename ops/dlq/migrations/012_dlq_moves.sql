-- DLQ records an operator moved (`sluice dlq replay`): Kafka keeps them in the DLQ, so `dlq list`, `show` and a
-- later replay leave them out by their coordinates. `moved_to`: the retry tier or parking topic they went to.
CREATE TABLE IF NOT EXISTS sluice_dlq_moves (
  topic       text        NOT NULL,
  "partition" integer     NOT NULL,
  "offset"    bigint      NOT NULL,
  replay_id   text        NOT NULL,
  moved_to    text        NOT NULL,
  moved_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (topic, "partition", "offset")
);
