-- The idempotency ledger behind ctx.once: one row per completed side effect, keyed by the processor's group
-- and the idempotency key. The row is written in the same PostgreSQL transaction as the side effect's own rows.
CREATE TABLE IF NOT EXISTS sluice_ledger (
  group_name   text        NOT NULL,
  key          text        NOT NULL,
  completed_at timestamptz NOT NULL DEFAULT now(),
  -- What the side effect returned, handed back to a redelivered record instead of running it again.
  result       jsonb,
  PRIMARY KEY (group_name, key)
);
