"""A client connection's contract requests: details, symbol search, option chains, rules."""

from __future__ import annotations

import datetime as dt

import seraphim.sim.ibkr.encoders as enc
from seraphim.sim.ibkr.contracts import ContractQuery
from seraphim.sim.ibkr.contracts import as_exchange
from seraphim.sim.ibkr.handlers.base import SessionBase
from seraphim.sim.ibkr.protocol import FieldReader


class ContractsMixin(SessionBase):
    """Contract details, symbol search, option chains and market rules."""

    def _req_contract_details(self, msg_id: int, r: FieldReader) -> None:
        r.skip()  # version
        req_id = r.int()
        q = ContractQuery.read(r)
        q.include_expired = r.bool()
        q.sec_id_type = r.str()
        q.sec_id = r.str()
        matches = self.venue.find_contracts(q)
        if not matches:
            self.error(req_id, 200)
            return
        today = dt.datetime.fromtimestamp(self.now, dt.UTC).date()
        for spec in matches:
            self.send(enc.contract_details(req_id, as_exchange(spec, q.exchange), today))
        self.send(enc.contract_details_end(req_id))

    def _req_matching_symbols(self, msg_id: int, r: FieldReader) -> None:
        req_id = r.int()
        pattern = r.str()
        universe = self.venue.universe
        out = []
        for spec in universe.search(pattern)[:16]:
            derivatives = ["OPT"] if universe.options_of(spec.con_id) else []
            out.append((spec, derivatives))
        self.send(enc.symbol_samples(req_id, out))

    def _req_sec_def_opt_params(self, msg_id: int, r: FieldReader) -> None:
        req_id = r.int()
        symbol = r.str()
        r.str()  # futFopExchange
        r.str()  # underlying secType
        con_id = r.int()
        universe = self.venue.universe
        under = universe.get(con_id) or next(
            (c for c in universe if c.symbol == symbol and c.sec_type == "STK"), None
        )
        options = universe.options_of(under.con_id) if under else []
        if options:
            expiries = sorted({o.last_trade_date for o in options})
            strikes = sorted({o.strike for o in options})
            for exchange in ("SMART", "CBOE"):
                self.send(
                    enc.sec_def_opt_params(
                        req_id, exchange, under.con_id, under.symbol, "100", expiries, strikes
                    )
                )
        self.send(enc.sec_def_opt_params_end(req_id))

    def _req_market_rule(self, msg_id: int, r: FieldReader) -> None:
        rule_id = r.int()
        increments = {26: [(0.0, 0.01)], 32: [(0.0, 0.01), (3.0, 0.05)], 3003: [(0.0, 0.25)]}
        self.send(enc.market_rule(rule_id, increments.get(rule_id, [(0.0, 0.01)])))
