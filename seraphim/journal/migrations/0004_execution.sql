-- Seraphim journal, version 4: execution quality of every parent order an execution algorithm
-- worked (TWAP, VWAP, POV, iceberg): arrival price, average fill, slippage and implementation
-- shortfall in basis points (positive = cost), written when the parent ends.

CREATE TABLE execution_quality (
    scope             text NOT NULL,
    parent_id         text NOT NULL,             -- the parent's client order id
    run_id            uuid REFERENCES runs (run_id) ON DELETE CASCADE,
    trader_id         text NOT NULL,
    algorithm         text NOT NULL,
    strategy_id       text NOT NULL,
    instrument_id     text NOT NULL,
    side              text NOT NULL CHECK (side IN ('BUY', 'SELL')),
    quantity          numeric NOT NULL,
    filled            numeric NOT NULL,
    children          integer NOT NULL,
    arrival_px        numeric,
    avg_px            numeric,
    end_px            numeric,
    slippage_bps      double precision,
    shortfall_bps     double precision,
    status            text NOT NULL CHECK (status IN ('completed', 'cancelled', 'partial')),
    ts_arrival        timestamptz NOT NULL,
    ts_end            timestamptz NOT NULL,
    PRIMARY KEY (scope, parent_id)
);
CREATE INDEX execution_quality_strategy ON execution_quality (scope, strategy_id, ts_arrival);
