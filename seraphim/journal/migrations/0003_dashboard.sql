-- Seraphim journal, version 3: the dashboard. Every action taken through it (logins, logouts,
-- commands to nodes, alert acknowledgements), who took it, from where and with what outcome;
-- a row is written before the action is taken and completed with its result. And which alerts
-- an operator has acknowledged. No password, session or CSRF token is ever stored.

CREATE TABLE dashboard_audit (
    audit_id          bigserial PRIMARY KEY,
    at                timestamptz NOT NULL DEFAULT now(),
    username          text NOT NULL,
    role              text,
    client            text,
    action            text NOT NULL,
    target            text,
    request           jsonb NOT NULL DEFAULT '{}'::jsonb,
    outcome           text NOT NULL CHECK (outcome IN ('pending', 'done', 'refused', 'failed')),
    detail            text,
    finished_at       timestamptz
);
CREATE INDEX dashboard_audit_at ON dashboard_audit (at DESC);

CREATE TABLE alert_acks (
    alert_id          uuid PRIMARY KEY REFERENCES alerts (alert_id) ON DELETE CASCADE,
    acked_by          text NOT NULL,
    acked_at          timestamptz NOT NULL DEFAULT now()
);

-- The dashboard pages a trader's fills newest first.
CREATE INDEX fills_trader_time ON fills (trader_id, ts_event DESC);
