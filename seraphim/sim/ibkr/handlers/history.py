"""A client connection's historical bars (with keepUpToDate updates) and head timestamps."""

from __future__ import annotations

import seraphim.sim.ibkr.encoders as enc
from seraphim.sim.ibkr.contracts import ContractQuery
from seraphim.sim.ibkr.handlers.base import BarSub
from seraphim.sim.ibkr.handlers.base import SessionBase
from seraphim.sim.ibkr.history import HMDS
from seraphim.sim.ibkr.history import HistoryRequestError
from seraphim.sim.ibkr.history import current_bar_window
from seraphim.sim.ibkr.history import format_bar_date
from seraphim.sim.ibkr.history import format_head_timestamp
from seraphim.sim.ibkr.history import format_range_stamp
from seraphim.sim.ibkr.history import parse_bar_size
from seraphim.sim.ibkr.history import parse_duration
from seraphim.sim.ibkr.history import parse_end_time
from seraphim.sim.ibkr.market import FIRST_DAY
from seraphim.sim.ibkr.protocol import FieldReader


class HistoryMixin(SessionBase):
    """Historical bars (with keepUpToDate updates) and head timestamps."""

    def _req_historical_data(self, msg_id: int, r: FieldReader) -> None:
        req_id = r.int()
        q = ContractQuery.read(r)
        q.include_expired = r.bool()
        end_text = r.str()
        bar_text = r.str()
        duration_text = r.str()
        use_rth = r.bool()
        what = r.str()
        format_date = r.int(1)
        if q.sec_type == "BAG":
            for _ in range(r.int()):
                r.skip(4)
        keep_up_to_date = r.bool()
        spec = self._resolve(req_id, q)
        if spec is None:
            return
        faults = self.venue.faults
        if faults.permission(spec.symbol) == "none":
            self.error(
                req_id,
                162,
                f"Historical Market Data Service error message:No market data permissions for "
                f"{spec.primary_exchange or spec.exchange} {spec.sec_type}",
            )
            return
        key = (spec.con_id, end_text, bar_text, duration_text, use_rth, what)
        violation = (
            "forced"
            if faults.take_forced_pacing()
            else faults.pacing.check(self.now, key, spec.con_id)
        )
        if violation:
            self.error(
                req_id,
                162,
                f"Historical Market Data Service error message:Pacing violation ({violation})",
            )
            return
        try:
            size = parse_bar_size(bar_text)
            duration = parse_duration(duration_text)
            if keep_up_to_date and end_text:
                raise HistoryRequestError(162, f"{HMDS}End date not supported with live updates")
            now = self.now
            end = parse_end_time(end_text, now)
            rows = self.venue.history.bars(spec, end, duration, size, what, use_rth, now)
        except HistoryRequestError as exc:
            self.error(req_id, exc.code, str(exc))
            return
        if not rows:
            self.error(
                req_id,
                162,
                "Historical Market Data Service error message:HMDS query returned no data: "
                f"{spec.local_symbol}@{spec.exchange} {what}",
            )
            return
        wire = [
            [
                format_bar_date(b.start, size, format_date),
                b.open,
                b.high,
                b.low,
                b.close,
                b.volume,
                b.wap,
                b.count,
            ]
            for b in rows
        ]
        start_text = format_range_stamp(end - duration)
        self.send(enc.historical_data(req_id, start_text, format_range_stamp(end), wire))
        if keep_up_to_date:
            self.state.live_history[req_id] = BarSub(req_id, spec, size, what, use_rth, format_date)

    def _push_history_update(self, sub: BarSub, now: float) -> None:
        window = current_bar_window(sub.spec, now, sub.size, sub.use_rth)
        if window is None:
            return
        lo, hi = window
        rows = self.venue.history.bars(
            sub.spec, hi, int(hi - lo), sub.size, sub.what, sub.use_rth, now + 1
        )
        if not rows:
            return
        b = rows[-1]
        date = format_bar_date(b.start, sub.size, sub.format_date)
        self.send(
            enc.historical_data_update(
                sub.req_id, b.count, date, b.open, b.close, b.high, b.low, b.wap, b.volume
            )
        )

    def _cancel_historical_data(self, msg_id: int, r: FieldReader) -> None:
        r.skip()
        self.state.live_history.pop(r.int(), None)

    def _req_head_timestamp(self, msg_id: int, r: FieldReader) -> None:
        req_id = r.int()
        q = ContractQuery.read(r)
        r.bool()  # includeExpired
        r.bool()  # useRTH
        r.str()  # whatToShow
        format_date = r.int(1)
        spec = self._resolve(req_id, q)
        if spec is None:
            return
        first = self.venue.head_timestamp(spec) or FIRST_DAY * 86_400 + 14.5 * 3600
        self.send(enc.head_timestamp(req_id, format_head_timestamp(first, format_date)))
