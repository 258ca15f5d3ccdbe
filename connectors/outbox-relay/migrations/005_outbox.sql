-- The transactional outbox (connectors/outbox-relay): events a service's transaction wrote beside its own rows,
-- already encoded (the Confluent wire format), published by the relay in id order and marked, then deleted after
-- the retention. Writers of one key take a transaction-level lock on it before inserting (outbox.ts), so within a
-- key the id order is the commit order.
CREATE TABLE IF NOT EXISTS sluice_outbox (
  id           bigserial   PRIMARY KEY,
  event_id     uuid        NOT NULL DEFAULT gen_random_uuid(),
  topic        text        NOT NULL,
  key          text        NOT NULL,
  value        bytea       NOT NULL,
  headers      jsonb       NOT NULL DEFAULT '{}',
  created_at   timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz
);

CREATE INDEX IF NOT EXISTS sluice_outbox_unpublished ON sluice_outbox (id) WHERE published_at IS NULL;
CREATE INDEX IF NOT EXISTS sluice_outbox_published ON sluice_outbox (published_at) WHERE published_at IS NOT NULL;
