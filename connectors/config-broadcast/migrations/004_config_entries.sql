-- Broadcast configuration (connectors/config-broadcast): the current entry per key, compared and set by version,
-- and every version written. Versions come from one sequence, so a number is never given twice, even to a write
-- whose transaction failed after its record reached Kafka: a later write always carries a higher one.
CREATE SEQUENCE IF NOT EXISTS config_version_seq;

CREATE TABLE IF NOT EXISTS config_entries (
  key text PRIMARY KEY,
  value text,
  version bigint NOT NULL,
  updated_at timestamptz NOT NULL
);

CREATE TABLE IF NOT EXISTS config_history (
  key text NOT NULL,
  version bigint NOT NULL,
  value text,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (key, version)
);
