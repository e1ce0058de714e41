-- Seraphim journal, version 1: runs (backtests and live node sessions), orders, order events,
-- fills, positions, position events and account snapshots, plus daily PnL and fee views.
--
-- `scope` keys every trading record: 'live:<TRADER_ID>' for live nodes (stable across restarts,
-- so a fill seen again after a restart is the same row), 'backtest:<run_id>' for a backtest run.
-- Money columns are numeric; times are timestamptz (UTC); nothing here holds a secret.

CREATE TABLE runs (
    run_id            uuid PRIMARY KEY,
    kind              text NOT NULL CHECK (kind IN ('backtest', 'live')),
    trader_id         text NOT NULL,
    name              text,
    config            jsonb NOT NULL DEFAULT '{}'::jsonb,
    metrics           jsonb NOT NULL DEFAULT '{}'::jsonb,
    started_at        timestamptz NOT NULL DEFAULT now(),
    finished_at       timestamptz,
    period_start      timestamptz,
    period_end        timestamptz,
    host              text,
    seraphim_version  text,
    recorded_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX runs_kind_started ON runs (kind, started_at DESC);

CREATE TABLE orders (
    scope             text NOT NULL,
    client_order_id   text NOT NULL,
    run_id            uuid REFERENCES runs (run_id) ON DELETE CASCADE,
    trader_id         text NOT NULL,
    strategy_id       text NOT NULL,
    instrument_id     text NOT NULL,
    account_id        text,
    venue_order_id    text,
    position_id       text,
    side              text NOT NULL,
    order_type        text NOT NULL,
    time_in_force     text,
    quantity          numeric NOT NULL,
    price             numeric,
    trigger_price     numeric,
    filled_qty        numeric NOT NULL DEFAULT 0,
    avg_px            numeric,
    status            text NOT NULL,
    tags              text,
    event_count       integer NOT NULL DEFAULT 1,
    ts_init           timestamptz NOT NULL,
    ts_last           timestamptz NOT NULL,
    recorded_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, client_order_id)
);
CREATE INDEX orders_strategy ON orders (scope, strategy_id, ts_init);

CREATE TABLE order_events (
    event_id          uuid PRIMARY KEY,
    scope             text NOT NULL,
    client_order_id   text NOT NULL,
    event_type        text NOT NULL,
    ts_event          timestamptz NOT NULL,
    payload           jsonb NOT NULL,
    recorded_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX order_events_order ON order_events (scope, client_order_id, ts_event);

CREATE TABLE fills (
    scope             text NOT NULL,
    instrument_id     text NOT NULL,
    trade_id          text NOT NULL,
    client_order_id   text NOT NULL,
    run_id            uuid REFERENCES runs (run_id) ON DELETE CASCADE,
    trader_id         text NOT NULL,
    strategy_id       text NOT NULL,
    account_id        text,
    venue_order_id    text,
    position_id       text,
    side              text NOT NULL,
    order_type        text,
    quantity          numeric NOT NULL,
    price             numeric NOT NULL,
    currency          text,
    commission        numeric NOT NULL DEFAULT 0,
    commission_currency text,
    liquidity_side    text,
    event_id          uuid NOT NULL,
    reconciliation    boolean NOT NULL DEFAULT false,
    ts_event          timestamptz NOT NULL,
    recorded_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, instrument_id, trade_id, client_order_id)
);
CREATE INDEX fills_strategy_time ON fills (scope, strategy_id, ts_event);
CREATE INDEX fills_time ON fills (ts_event);

CREATE TABLE positions (
    scope             text NOT NULL,
    position_id       text NOT NULL,
    opened_at         timestamptz NOT NULL,
    run_id            uuid REFERENCES runs (run_id) ON DELETE CASCADE,
    trader_id         text NOT NULL,
    strategy_id       text NOT NULL,
    instrument_id     text NOT NULL,
    account_id        text,
    entry             text,
    side              text NOT NULL,
    quantity          numeric NOT NULL,
    peak_qty          numeric,
    avg_px_open       numeric,
    avg_px_close      numeric,
    realized_pnl      numeric,
    pnl_currency      text,
    realized_return   double precision,
    commissions       jsonb NOT NULL DEFAULT '[]'::jsonb,
    closed_at         timestamptz,
    ts_last           timestamptz NOT NULL,
    recorded_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, position_id, opened_at)
);
CREATE INDEX positions_strategy ON positions (scope, strategy_id, opened_at);

-- Every position event; realized PnL per day is the change in realized_pnl between
-- consecutive events of one position cycle (see realized_pnl_changes).
CREATE TABLE position_events (
    event_id          uuid PRIMARY KEY,
    scope             text NOT NULL,
    position_id       text NOT NULL,
    opened_at         timestamptz NOT NULL,
    run_id            uuid REFERENCES runs (run_id) ON DELETE CASCADE,
    trader_id         text NOT NULL,
    strategy_id       text NOT NULL,
    instrument_id     text NOT NULL,
    event_type        text NOT NULL,
    side              text NOT NULL,
    quantity          numeric NOT NULL,
    realized_pnl      numeric NOT NULL DEFAULT 0,
    pnl_currency      text,
    seq               bigint NOT NULL DEFAULT 0,
    ts_event          timestamptz NOT NULL,
    recorded_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX position_events_cycle ON position_events (scope, position_id, opened_at, ts_event);

CREATE TABLE account_snapshots (
    event_id          uuid NOT NULL,
    currency          text NOT NULL,
    scope             text NOT NULL,
    run_id            uuid REFERENCES runs (run_id) ON DELETE CASCADE,
    trader_id         text NOT NULL,
    account_id        text NOT NULL,
    account_type      text,
    total             numeric NOT NULL,
    locked            numeric NOT NULL,
    free              numeric NOT NULL,
    reported          boolean NOT NULL DEFAULT false,
    ts_event          timestamptz NOT NULL,
    recorded_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (event_id, currency)
);
CREATE INDEX account_snapshots_time ON account_snapshots (scope, account_id, ts_event);

CREATE VIEW realized_pnl_changes AS
SELECT scope, run_id, trader_id, strategy_id, instrument_id, position_id, opened_at,
       pnl_currency AS currency, ts_event,
       realized_pnl - COALESCE(
           lag(realized_pnl) OVER (
               PARTITION BY scope, position_id, opened_at ORDER BY ts_event, seq, event_id
           ),
           0
       ) AS realized_pnl
FROM position_events;

CREATE VIEW daily_pnl AS
SELECT scope, trader_id, strategy_id, currency,
       (ts_event AT TIME ZONE 'UTC')::date AS day,
       sum(realized_pnl) AS realized_pnl
FROM realized_pnl_changes
GROUP BY scope, trader_id, strategy_id, currency, (ts_event AT TIME ZONE 'UTC')::date;

CREATE VIEW daily_fees AS
SELECT scope, trader_id, strategy_id, commission_currency AS currency,
       (ts_event AT TIME ZONE 'UTC')::date AS day,
       count(*) AS fills,
       sum(commission) AS fees,
       sum(quantity * price) AS notional
FROM fills
GROUP BY scope, trader_id, strategy_id, commission_currency, (ts_event AT TIME ZONE 'UTC')::date;
