-- Flash sales (processors/flashsale): each sale as `sluice flashsale create` made it, and the orders its steady
-- writer turns purchases into. Redis holds the sale's live stock and reservations; this is the record of what sold.
CREATE TABLE IF NOT EXISTS flash_sales (
  sale_id           text        PRIMARY KEY,
  sku               text        NOT NULL,
  units             integer     NOT NULL CHECK (units >= 0),
  per_user_limit    integer     NOT NULL CHECK (per_user_limit > 0),
  starts_at         timestamptz NOT NULL,
  ends_at           timestamptz NOT NULL,
  payment_window_ms bigint      NOT NULL CHECK (payment_window_ms > 0),
  created_at        timestamptz NOT NULL DEFAULT now()
);

-- One row per admitted purchase (its purchase id is the reservation id the gateway answered with).
CREATE TABLE IF NOT EXISTS flash_sale_orders (
  purchase_id    text        PRIMARY KEY,
  sale_id        text        NOT NULL,
  user_id        text        NOT NULL,
  sku            text        NOT NULL,
  quantity       integer     NOT NULL CHECK (quantity > 0),
  status         text        NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'PAID', 'EXPIRED')),
  requested_at   timestamptz NOT NULL,
  payment_due_at timestamptz,
  -- When the writer wrote it: what its rate limit is measured on.
  written_at     timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE INDEX IF NOT EXISTS flash_sale_orders_sale ON flash_sale_orders (sale_id, status);
