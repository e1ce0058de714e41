-- Seraphim journal, version 2: live operations. Every operator command a node received (who,
-- when, what, with what result; refused and duplicate deliveries too) and every alert notice
-- (raised or resolved) with its delivery outcome. Neither holds a secret: commands are stored
-- without their signature and alerts without channel URLs.

CREATE TABLE operator_actions (
    action_id         uuid PRIMARY KEY,          -- from the trader and the stream entry id
    trader_id         text NOT NULL,
    command_id        text,
    operator          text,
    action            text,
    command           jsonb NOT NULL DEFAULT '{}'::jsonb,
    status            text NOT NULL CHECK (status IN ('done', 'refused')),
    duplicate         boolean NOT NULL DEFAULT false,
    detail            text NOT NULL,
    signed_at         timestamptz,
    answered_at       timestamptz NOT NULL,
    recorded_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX operator_actions_trader ON operator_actions (trader_id, answered_at);

CREATE TABLE alerts (
    alert_id          uuid PRIMARY KEY,          -- from trader, rule, subject, kind and time
    trader_id         text NOT NULL,
    rule              text NOT NULL,
    subject           text NOT NULL,
    severity          text NOT NULL,
    kind              text NOT NULL CHECK (kind IN ('raised', 'resolved')),
    message           text NOT NULL,
    raised_at         timestamptz NOT NULL,
    delivered         boolean NOT NULL,
    attempts          integer NOT NULL,
    error             text,
    recorded_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alerts_trader ON alerts (trader_id, raised_at);
