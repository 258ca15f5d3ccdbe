-- The reference order service's own table (services/orders). request_id makes POST /orders idempotent: a request
-- retried after a lost answer finds its order instead of placing a second one.
CREATE TABLE IF NOT EXISTS orders (
  order_id    text        PRIMARY KEY,
  request_id  text        NOT NULL UNIQUE,
  user_id     text        NOT NULL,
  items       jsonb       NOT NULL,
  total_cents bigint      NOT NULL,
  currency    text        NOT NULL,
  state       text        NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  paid_at     timestamptz
);
