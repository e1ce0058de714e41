// Seraphim dashboard: every page is a shell; this script fetches what it shows from /api and
// sends what it does there (with the session's CSRF token). Text goes in with textContent only.
"use strict";

const body = document.body;
const page = body.dataset.page;
const trader = body.dataset.trader;
const role = body.dataset.role;
const csrf = document.querySelector('meta[name="csrf-token"]')?.content;
const ROLES = ["viewer", "trader", "admin"];
const can = (needed) => ROLES.indexOf(role) >= ROLES.indexOf(needed);

async function api(method, path, payload) {
  const options = { method, credentials: "same-origin", headers: {} };
  if (method !== "GET") options.headers["X-CSRF-Token"] = csrf || "";
  if (payload !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(payload);
  }
  const response = await fetch(path, options);
  if (response.status === 401 && page !== "login") {
    location.href = "/login";
    throw new Error("signed out");
  }
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) throw new Error((data && data.detail) || `${response.status}`);
  return data;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function fill(tbody, rows, cells) {
  tbody.replaceChildren(...rows.map((row) => el("tr", {}, ...cells(row).map((c) => el("td", {}, c)))));
}

const num = (v, digits = 2) => (v === null || v === undefined ? "–" : Number(v).toFixed(digits));
const signed = (v) => el("span", { class: v > 0 ? "up" : v < 0 ? "down" : "" }, num(v));
const time = (iso) => (iso ? new Date(iso).toISOString().replace("T", " ").slice(0, 19) : "–");
const nsTime = (ns) => time(new Date(Number(ns) / 1e6).toISOString());

function flash(message) {
  const box = document.getElementById("flash");
  if (box) box.textContent = message || "";
}

async function refreshing(fn, secs) {
  try { await fn(); } catch (e) { flash(e.message); }
  if (secs) setTimeout(() => refreshing(fn, secs), secs * 1000);
}

// -- live feed ---------------------------------------------------------------------------

const live = { health: [], order: [] };

function connectLive() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/api/ws`);
  const dot = document.getElementById("live-status");
  socket.onopen = () => dot && dot.classList.add("on");
  socket.onclose = (event) => {
    if (dot) dot.classList.remove("on");
    if (event.code === 4401) location.href = "/login";
    else setTimeout(connectLive, 2000);
  };
  socket.onmessage = (event) => {
    const message = JSON.parse(event.data);
    for (const handler of live[message.type] || []) handler(message);
  };
}

function orderEventLine(m) {
  const e = m.event;
  const what = e.type === "OrderFilled"
    ? `${e.order_side} ${e.last_qty} ${e.instrument_id} @ ${e.last_px}`
    : `${e.instrument_id}${e.reason ? ": " + e.reason : ""}`;
  // When it happened at the venue and when it arrived here (the browser tests compare them).
  return el("li", { class: e.type === "OrderFilled" ? "fill" : e.type === "OrderDenied" ? "down" : "",
    "data-ts-event": e.ts_event, "data-received": Date.now() },
    `${nsTime(e.ts_event)} ${m.trader_id} ${e.strategy_id} ${e.type} ${what}`);
}

function liveFills(filterTrader) {
  const list = document.getElementById("live-fills");
  live.order.push((m) => {
    if (filterTrader && m.trader_id !== filterTrader) return;
    if (!filterTrader && m.event.type !== "OrderFilled") return;
    list.prepend(orderEventLine(m));
    while (list.children.length > 200) list.lastChild.remove();
  });
}

// -- pages -------------------------------------------------------------------------------

function healthCells(t, h, trades) {
  if (!h) return [el("a", { href: `/nodes/${t}` }, t), "no health", "", "", "", "", "", "", "", "", trades ?? "–"];
  const venues = Object.entries(h.venues || {}).map(([n, v]) => `${n} ${v.connected ? "up" : "DOWN"} (${v.reconnects})`).join(", ");
  const stale = Object.entries(h.instruments || {}).map(([i, v]) => `${i} ${num(v.staleness_secs, 1)} s`).join(", ");
  return [
    el("a", { href: `/nodes/${t}` }, t),
    el("span", { class: `badge ${h.status}` }, h.status),
    `${num(h.heartbeat_age_secs, 1)} s ago`,
    venues, stale, Object.keys(h.strategies || {}).length,
    num(h.equity), el("span", { id: `pnl-${t}` }, signed(h.daily_pnl)),
    `${num(h.drawdown_pct, 3)} %`, h.trading_state || "–", trades ?? "–",
  ];
}

async function overviewPage() {
  const tbody = document.querySelector("#nodes tbody");
  const nodes = new Map();
  let trades = new Map();
  const render = () => fill(tbody, [...nodes.keys()].sort(), (t) => healthCells(t, nodes.get(t), trades.get(t)));
  const equity = new Map();
  const chart = document.getElementById("equity-chart");
  const plot = () => {
    if (!window.Plotly) return;
    const traces = [...equity.entries()].map(([t, pts]) => ({
      name: t, mode: "lines", x: pts.map((p) => new Date(p.ts / 1e6)), y: pts.map((p) => p.equity),
    }));
    Plotly.react(chart, traces, { margin: { t: 10, r: 10, b: 30, l: 60 }, paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "rgba(0,0,0,0)", font: { color: "#d8dee9" }, showlegend: true }, { displayModeBar: false });
  };
  await refreshing(async () => {
    for (const n of await api("GET", "/api/nodes")) {
      nodes.set(n.trader_id, n.health);
      if (!equity.has(n.trader_id)) equity.set(n.trader_id, await api("GET", `/api/nodes/${n.trader_id}/equity`));
    }
    trades = new Map((await api("GET", "/api/pnl/today")).map((r) => [r.trader_id, r.total_trades]));
    render(); plot();
    const exposure = document.getElementById("exposure");
    exposure.replaceChildren();
    for (const t of nodes.keys()) {
      const x = (await api("GET", `/api/nodes/${t}`)).exposure;
      const rows = [
        ...Object.entries(x.positions_by_asset).map(([a, v]) => `${t} ${a}: ${num(v)} (positions)`),
        ...x.balances.map((b) => `${t} ${b.venue} ${b.currency}: ${b.total}`),
      ];
      exposure.append(...rows.map((r) => el("div", {}, r)));
    }
    const alerts = await api("GET", "/api/alerts?open=true&limit=20");
    fill(document.querySelector("#open-alerts tbody"), alerts,
      (a) => [time(a.raised_at), a.trader_id, el("span", { class: "warn" }, a.severity), `${a.rule} ${a.subject}`, a.message]);
  }, 15);
  live.health.push((m) => {
    nodes.set(m.trader_id, m.health);
    render();
    if (m.health.equity !== null && m.health.equity !== undefined) {
      if (!equity.has(m.trader_id)) equity.set(m.trader_id, []);
      equity.get(m.trader_id).push({ ts: m.health.ts, equity: m.health.equity });
      plot();
    }
  });
  liveFills(null);
}

// Limits in their own unit: fractions as percentages, leverage as a multiple, money, units.
function limitValue(rule, v, currency) {
  if (rule === "max_gross_leverage") return `${num(v, 2)}×`;
  if (rule === "max_order_notional") return `${num(v)} ${currency || ""}`;
  if (rule === "max_position_qty") return num(v, 6);
  return `${num(v * 100, 2)} %`;
}

function usageBar(l) {
  if (l.usage === null || !l.limit) return "";
  const used = Math.min(l.usage / l.limit, 1);
  return el("span", { class: `gauge ${used >= 0.9 ? "high" : ""}`, title: `${num(used * 100, 0)} % of the limit` },
    el("span", { style: `width:${(used * 100).toFixed(0)}%` }));
}

function orderCells(o, withStrategy = true) {
  return [time(o.ts_last), o.client_order_id, ...(withStrategy ? [o.strategy_id, o.instrument_id] : []),
    o.side, o.type, o.quantity, o.filled_qty, o.price ?? (o.avg_px ? num(o.avg_px, 2) : "–"),
    o.status, el("span", { class: "down" }, o.reason || "")];
}

async function nodePage() {
  const base = `/api/nodes/${trader}`;
  const strategies = document.querySelector("#strategies tbody");
  const loadNode = async () => {
    const n = await api("GET", base);
    const h = n.health || {};
    const status = document.getElementById("node-status");
    status.textContent = h.status || "no health";
    status.className = `badge ${h.status || ""}`;
    document.getElementById("node-summary").textContent =
      `equity ${num(h.equity)} · today's P&L ${num(h.daily_pnl)} · drawdown ${num(h.drawdown_pct, 3)} % · ` +
      `trading state ${h.trading_state || "–"} · guard ${h.guard || "–"}` + (n.control ? "" : " · no control channel");
    fill(strategies, n.strategies, (s) => [
      el("a", { href: `/nodes/${trader}/strategies/${s.strategy_id}` }, s.strategy_id),
      el("span", { class: `badge ${s.paused ? "paused" : s.running ? "running" : "stopped"}`, "data-strategy": s.strategy_id },
        s.paused ? "paused" : s.running ? "running" : "stopped"),
      JSON.stringify(s.params), num(s.rejects_per_minute, 1),
      can("trader") && s.strategy_id !== "OPERATOR-OP"
        ? el("span", {}, ...["pause", "resume"].map((a) => el("button", {
            type: "button", "data-action": a, "data-strategy": s.strategy_id,
            onclick: async () => {
              await control(`${base}/strategies/${s.strategy_id}/${a}`, {}, document.getElementById("control-result"));
              await loadNode();
            },
          }, a)))
        : "",
    ]);
  };
  const loadOrders = async () => {
    const status = document.getElementById("order-status").value;
    const strategy = document.getElementById("order-filter").value;
    const q = new URLSearchParams({ status, limit: "100" });
    if (strategy) q.set("strategy", strategy);
    fill(document.querySelector("#orders tbody"), await api("GET", `${base}/orders?${q}`), (o) => [
      ...orderCells(o),
      can("trader") && o.open ? el("button", { type: "button", "data-cancel": o.client_order_id,
        onclick: async () => { await control(`${base}/orders/${o.client_order_id}/cancel`, {}); await loadOrders(); },
      }, "cancel") : "",
    ]);
    fill(document.querySelector("#positions tbody"), await api("GET", `${base}/positions?status=open`), (p) => [
      p.position_id, p.strategy_id, p.instrument_id, p.side, p.quantity, num(p.avg_px_open), p.realized_pnl,
      can("trader") ? el("button", { type: "button", onclick: () => control(`${base}/flatten`,
        { strategy_id: p.strategy_id, instrument_id: p.instrument_id }) }, "flatten") : "",
    ]);
  };
  const loadRisk = async () => {
    const r = await api("GET", `${base}/risk`);
    const box = document.getElementById("risk");
    box.replaceChildren(
      el("div", {}, `trading state ${r.trading_state || "–"} · guard ${r.guard || "–"} · drawdown ${num(r.drawdown_pct, 3)} % · daily P&L ${num(r.daily_pnl)}`),
      el("table", { class: "grid", id: "limits" }, el("tbody", {},
        el("tr", {}, el("th", {}, "Scope"), el("th", {}, "Rule"), el("th", {}, "On"), el("th", {}, "Limit"),
          el("th", {}, "Used"), el("th", {}, "")),
        ...r.limits.map((l) => el("tr", { "data-rule": `${l.scope} ${l.rule}` }, el("td", {}, l.scope), el("td", {}, l.rule),
          el("td", {}, l.subject), el("td", {}, limitValue(l.rule, l.limit, r.currency)),
          el("td", {}, l.usage === null ? "–" : limitValue(l.rule, l.usage, r.currency)), el("td", {}, usageBar(l)))))),
      el("table", { class: "grid", id: "denials" }, el("tbody", {},
        el("tr", {}, el("th", {}, "Rule"), el("th", {}, "Denied"), el("th", {}, "Last reason")),
        ...r.denials.map((d) => el("tr", {}, el("td", {}, d.rule), el("td", {}, d.count), el("td", {}, d.last_reason))))),
    );
  };
  const all = async () => { await loadNode(); await loadOrders(); await loadRisk(); };
  await refreshing(all, 5);
  document.getElementById("order-status").addEventListener("change", loadOrders);
  document.getElementById("order-filter").addEventListener("change", loadOrders);
  const ticket = document.getElementById("ticket-form");
  if (ticket) ticket.addEventListener("submit", async (event) => {
    event.preventDefault();
    const order = {
      instrument_id: document.getElementById("ticket-instrument").value.trim(),
      side: document.getElementById("ticket-side").value,
      type: document.getElementById("ticket-type").value,
      quantity: document.getElementById("ticket-qty").value.trim(),
    };
    const price = document.getElementById("ticket-price").value.trim();
    if (price) order.price = price;
    await control(`${base}/orders`, order, document.getElementById("ticket-result"));
    await loadOrders();
  });
  const cancelAll = document.getElementById("cancel-all");
  if (cancelAll) cancelAll.addEventListener("click", () => control(`${base}/cancel`, {}));
  const flattenAll = document.getElementById("flatten-all");
  if (flattenAll) flattenAll.addEventListener("click", () => {
    if (confirm(`Cancel every open order and close every position of ${trader}?`)) control(`${base}/flatten`, {});
  });
  const reset = document.getElementById("reset-guard");
  if (reset) reset.addEventListener("click", async () => {
    await control(`${base}/reset-guard`, { confirm: document.getElementById("reset-confirm").value.trim() },
      document.getElementById("guard-result"));
    await loadRisk();
  });
  live.health.push((m) => { if (m.trader_id === trader) loadNode(); });
  live.order.push((m) => { if (m.trader_id === trader) loadOrders(); });
  liveFills(trader);
}

async function control(path, payload, target) {
  const out = target || document.getElementById("flash");
  out.className = "";
  out.textContent = "sending…";
  try {
    const answer = await api(path.endsWith("/params") ? "PUT" : "POST", path, payload);
    out.className = answer.status === "done" ? "ok" : "error";
    out.textContent = `${answer.status}: ${answer.detail}`;
    return answer;
  } catch (e) {
    out.className = "error";
    out.textContent = e.message;
  }
}

async function strategyPage() {
  const sid = body.dataset.strategy;
  const base = `/api/nodes/${trader}`;
  const load = async () => {
    const s = (await api("GET", `${base}/strategies`)).find((x) => x.strategy_id === sid);
    const state = document.getElementById("strategy-state");
    const label = !s ? "unknown" : s.paused ? "paused" : s.running ? "running" : "stopped";
    state.textContent = label;
    state.className = `badge ${label}`;
    fill(document.querySelector("#params tbody"), Object.entries((s && s.params) || {}), ([k, v]) => [k, JSON.stringify(v)]);
    fill(document.querySelector("#orders tbody"), await api("GET", `${base}/orders?strategy=${encodeURIComponent(sid)}&limit=100`), (o) => orderCells(o, false));
    fill(document.querySelector("#positions tbody"), await api("GET", `${base}/positions?strategy=${encodeURIComponent(sid)}`),
      (p) => [p.position_id, p.side, p.quantity, num(p.avg_px_open), p.realized_pnl]);
    fill(document.querySelector("#fills tbody"), await api("GET", `/api/fills?trader=${encodeURIComponent(trader)}&strategy=${encodeURIComponent(sid)}&limit=50`),
      (f) => [time(f.ts_event), f.side, f.quantity, f.price, `${f.commission} ${f.commission_currency || ""}`, f.client_order_id]);
  };
  await refreshing(load, 5);
  const out = document.getElementById("control-result");
  for (const button of document.querySelectorAll("button.control")) {
    button.addEventListener("click", async () => { await control(`${base}/strategies/${sid}/${button.dataset.action}`, {}, out); await load(); });
  }
  const form = document.getElementById("params-form");
  if (form) form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const name = document.getElementById("param-name").value.trim();
    const value = document.getElementById("param-value").value.trim();
    await control(`${base}/strategies/${sid}/params`, { params: { [name]: value } }, out);
    await load();
  });
  live.order.push((m) => { if (m.trader_id === trader && m.event.strategy_id === sid) load(); });
}

async function alertsPage() {
  const load = async () => {
    const open = document.getElementById("open-only").checked;
    fill(document.querySelector("#alerts tbody"), await api("GET", `/api/alerts?open=${open}&limit=200`), (a) => [
      time(a.raised_at), a.trader_id, a.severity, a.rule, a.subject, a.kind, a.message,
      a.acked_by ? `${a.acked_by} ${time(a.acked_at)}`
        : can("trader") && a.kind === "raised"
          ? el("button", { type: "button", onclick: async () => { await api("POST", `/api/alerts/${a.alert_id}/ack`); load(); } }, "acknowledge")
          : "",
    ]);
  };
  document.getElementById("open-only").addEventListener("change", load);
  await refreshing(load, 10);
}

async function backtestsPage() {
  const runs = await api("GET", "/api/backtests?limit=100");
  fill(document.querySelector("#runs tbody"), runs, (r) => [
    el("input", { type: "checkbox", value: r.run_id, class: "pick" }),
    time(r.started_at), r.name || "–", r.kind, r.trader_id, num(r.total_return, 4), num(r.sharpe, 2),
    num(r.max_drawdown, 4), r.fills,
    el("a", { href: `/api/backtests/${r.run_id}/report`, target: "_blank", rel: "noopener" }, "open"),
  ]);
  document.getElementById("compare").addEventListener("click", async () => {
    const picked = [...document.querySelectorAll("input.pick:checked")].map((c) => c.value);
    if (picked.length !== 2) return flash("tick exactly two runs to compare");
    flash("");
    const c = await api("GET", `/api/backtests/compare?a=${picked[0]}&b=${picked[1]}`);
    const tbody = document.querySelector("#comparison tbody");
    const label = (r) => `${r.name || ""} (${r.run_id.slice(0, 8)})`;
    const value = (v) => typeof v === "number" ? (Number.isInteger(v) ? v : num(v, 4))
      : v !== null && typeof v === "object" ? JSON.stringify(v) : v ?? "–";
    fill(tbody, [{ metric: "run", a: label(c.runs[0]), b: label(c.runs[1]) }, ...c.metrics],
      (m) => [m.metric, value(m.a), value(m.b)]);
  });
}

async function catalogPage() {
  const c = await api("GET", "/api/catalog");
  document.getElementById("catalog-path").textContent = c.catalog;
  if (c.error) flash(c.error);
  fill(document.querySelector("#series tbody"), c.series, (s) => [
    s.data_type, s.identifier, s.rows, time(s.start), time(s.end),
    s.synthetic ? "SYNTHETIC" : s.sources.join(", "), s.gaps ?? "–",
    s.findings.map((f) => `${f.severity}: ${f.check} (${f.count})`).join("; "),
  ]);
}

async function auditPage() {
  fill(document.querySelector("#audit tbody"), await api("GET", "/api/audit?limit=200"), (a) => [
    time(a.at), a.username, a.role || "–", a.client, a.action, a.target || "", a.outcome, a.detail || "",
  ]);
}

function loginPage() {
  document.getElementById("login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const error = document.getElementById("login-error");
    error.textContent = "";
    try {
      await api("POST", "/api/auth/login", {
        username: document.getElementById("username").value,
        password: document.getElementById("password").value,
      });
      location.href = "/";
    } catch (e) {
      error.textContent = e.message;
    }
  });
}

const PAGES = {
  overview: overviewPage, node: nodePage, strategy: strategyPage, alerts: alertsPage,
  backtests: backtestsPage, catalog: catalogPage, audit: auditPage,
};

if (page === "login") loginPage();
else if (page === "signin-needed") location.href = "/login";
else if (PAGES[page]) {
  document.getElementById("logout").addEventListener("click", async () => {
    try { await api("POST", "/api/auth/logout"); } finally { location.href = "/login"; }
  });
  connectLive();
  PAGES[page]().catch((e) => flash(e.message));
}
