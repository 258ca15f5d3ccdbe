-- The alerting rules' state, one row per (rule, key): recent event times, when the key was last seen, the firing
-- episode and the one pending check (connectors/alerting/evaluation.ts). Updated in the ledger's transaction of
-- the record that changed it, so a redelivered record neither counts twice nor fires twice.
CREATE TABLE IF NOT EXISTS alert_rule_state (
  rule       text        NOT NULL,
  key        text        NOT NULL,
  state      jsonb       NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (rule, key)
);
