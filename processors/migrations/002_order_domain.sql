-- Tables of the reference processors: stock and reservations (inventory), the points ledger (points),
-- sent emails (email-sender), and each order's current state (order-state, order-timeout).
CREATE TABLE IF NOT EXISTS stock (
  sku      text    PRIMARY KEY,
  quantity integer NOT NULL
);

CREATE TABLE IF NOT EXISTS stock_reservations (
  order_id    text        NOT NULL,
  sku         text        NOT NULL,
  quantity    integer     NOT NULL,
  reserved_at timestamptz NOT NULL DEFAULT now(),
  released_at timestamptz,
  PRIMARY KEY (order_id, sku)
);

-- No unique key on purpose: ctx.once is what keeps a redelivered order from granting points twice.
CREATE TABLE IF NOT EXISTS points_ledger (
  event_id   text        NOT NULL,
  user_id    text        NOT NULL,
  order_id   text        NOT NULL,
  points     integer     NOT NULL,
  granted_at timestamptz NOT NULL DEFAULT now()
);

-- No unique key on purpose: a duplicate send would show as a second row.
CREATE TABLE IF NOT EXISTS emails_sent (
  email_id  text        NOT NULL,
  recipient text        NOT NULL,
  template  text        NOT NULL,
  sent_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS order_states (
  order_id   text        PRIMARY KEY,
  state      text        NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
