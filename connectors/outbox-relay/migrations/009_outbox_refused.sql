-- A row Kafka cannot take (larger than its topic's max.message.bytes on the cluster) is set aside with the reason
-- instead of holding up its topic's later rows: kept, never published, for an operator to look at.
ALTER TABLE sluice_outbox ADD COLUMN IF NOT EXISTS refused text;
