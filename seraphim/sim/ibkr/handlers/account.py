"""A client connection's account requests: positions, account summary and updates, PnL."""

from __future__ import annotations

from decimal import Decimal

import seraphim.sim.ibkr.encoders as enc
from seraphim.sim.ibkr.contracts import ContractSpec
from seraphim.sim.ibkr.handlers.base import SessionBase
from seraphim.sim.ibkr.messages import NO_VALID_ID
from seraphim.sim.ibkr.protocol import FieldReader


class AccountMixin(SessionBase):
    """Positions, account summary and updates, PnL."""

    def _req_positions(self, msg_id: int, r: FieldReader) -> None:
        self.state.positions = True
        for account_id, account in self.venue.accounts.items():
            for pos in account.open_positions():
                self.send(enc.position(account_id, pos.spec, pos.quantity, pos.avg_cost))
        self.send(enc.position_end())

    def _cancel_positions(self, msg_id: int, r: FieldReader) -> None:
        self.state.positions = False

    def _req_positions_multi(self, msg_id: int, r: FieldReader) -> None:
        r.skip()
        req_id = r.int()
        account = r.str()
        r.str()  # modelCode
        self.state.positions_multi[req_id] = account
        for account_id, acct in self.venue.accounts.items():
            if account and account not in ("All", account_id):
                continue
            for pos in acct.open_positions():
                self.send(
                    enc.position_multi(req_id, account_id, pos.spec, pos.quantity, pos.avg_cost)
                )
        self.send(enc.position_multi_end(req_id))

    def _cancel_positions_multi(self, msg_id: int, r: FieldReader) -> None:
        r.skip()
        self.state.positions_multi.pop(r.int(), None)

    def _req_account_summary(self, msg_id: int, r: FieldReader) -> None:
        r.skip()
        req_id = r.int()
        group = r.str()
        tags = r.str()
        if group and group != "All":
            self.error(
                req_id, 321, f"Error validating request.-'bc' : cause - Unknown group {group!r}"
            )
            return
        self.state.account_summary[req_id] = tags
        self.send_account_summary(req_id, tags)

    def send_account_summary(self, req_id: int, tags: str) -> None:
        """All rows for every managed account, then accountSummaryEnd."""
        for account_id, account in self.venue.accounts.items():
            for tag, value, currency in account.summary_rows(tags, self.venue.mark):
                self.send(enc.account_summary(req_id, account_id, tag, value, currency))
        self.send(enc.account_summary_end(req_id))

    def _cancel_account_summary(self, msg_id: int, r: FieldReader) -> None:
        r.skip()
        self.state.account_summary.pop(r.int(), None)

    def _req_account_updates(self, msg_id: int, r: FieldReader) -> None:
        r.skip()
        subscribe = r.bool()
        account = r.str() or self.venue.account_ids[0]
        if not subscribe:
            self.state.account_updates = None
            return
        if not self._known_account(NO_VALID_ID, account, "bb"):
            return
        self.state.account_updates = account
        self.send_account_updates(account)
        self.send(enc.account_download_end(account))

    def send_account_updates(self, account_id: str) -> None:
        """accountValue rows, one portfolioValue per position and the update time."""
        venue = self.venue
        account = venue.accounts[account_id]
        for key, value, currency in account.update_rows(venue.mark):
            self.send(enc.account_value(key, value, currency, account_id))
        for pos in account.open_positions():
            price = venue.mark(pos.spec)
            value = float(pos.quantity) * price * pos.spec.value_multiplier
            unrealized = value - float(pos.quantity) * pos.avg_cost
            self.send(
                enc.portfolio_value(
                    pos.spec,
                    pos.quantity,
                    price,
                    value,
                    pos.avg_cost,
                    unrealized,
                    pos.realized_pnl,
                    account_id,
                )
            )
        self.send(enc.account_update_time(self.now))

    def _req_account_updates_multi(self, msg_id: int, r: FieldReader) -> None:
        r.skip()
        req_id = r.int()
        account = r.str() or self.venue.account_ids[0]
        r.str()  # modelCode
        r.bool()  # ledgerAndNLV
        if not self._known_account(req_id, account, "bb"):
            return
        self.state.account_updates_multi[req_id] = account
        self.send_account_updates_multi(req_id, account)

    def send_account_updates_multi(self, req_id: int, account_id: str) -> None:
        """accountUpdateMulti rows then accountUpdateMultiEnd."""
        account = self.venue.accounts[account_id]
        for key, value, currency in account.update_rows(self.venue.mark):
            self.send(enc.account_update_multi(req_id, account_id, key, value, currency))
        self.send(enc.account_update_multi_end(req_id))

    def _cancel_account_updates_multi(self, msg_id: int, r: FieldReader) -> None:
        r.skip()
        self.state.account_updates_multi.pop(r.int(), None)

    def _req_pnl(self, msg_id: int, r: FieldReader) -> None:
        req_id = r.int()
        account = r.str()
        r.str()  # modelCode
        if not self._known_account(req_id, account, "bJ"):
            return
        self.state.pnl[req_id] = account
        self.send_pnl(req_id, account)

    def send_pnl(self, req_id: int, account_id: str) -> None:
        """Daily, unrealised and realised P&L of one account."""
        values = self.venue.accounts[account_id].values(self.venue.mark)
        unrealized, realized = values["UnrealizedPnL"], values["RealizedPnL"]
        self.send(enc.pnl(req_id, unrealized + realized, unrealized, realized))

    def _cancel_pnl(self, msg_id: int, r: FieldReader) -> None:
        self.state.pnl.pop(r.int(), None)

    def _req_pnl_single(self, msg_id: int, r: FieldReader) -> None:
        req_id = r.int()
        account = r.str()
        r.str()  # modelCode
        con_id = r.int()
        if account not in self.venue.accounts or self.venue.universe.get(con_id) is None:
            self.error(req_id, 200)
            return
        self.state.pnl_single[req_id] = (account, con_id)
        self.send_pnl_single(req_id, account, con_id)

    def send_pnl_single(self, req_id: int, account_id: str, con_id: int) -> None:
        """P&L of one position."""
        account = self.venue.accounts[account_id]
        pos = account.positions.get(con_id)
        if pos is None:
            self.send(enc.pnl_single(req_id, Decimal(0), 0.0, 0.0, 0.0, 0.0))
            return
        value = float(pos.quantity) * self.venue.mark(pos.spec) * pos.spec.value_multiplier
        unrealized = value - float(pos.quantity) * pos.avg_cost
        self.send(
            enc.pnl_single(
                req_id,
                pos.quantity,
                unrealized + pos.realized_pnl,
                unrealized,
                pos.realized_pnl,
                value,
            )
        )

    def _cancel_pnl_single(self, msg_id: int, r: FieldReader) -> None:
        self.state.pnl_single.pop(r.int(), None)

    def push_account_changes(self) -> None:
        """Resend account data to this connection's account subscriptions after a fill."""
        for req_id, tags in list(self.state.account_summary.items()):
            self.send_account_summary(req_id, tags)
        if self.state.account_updates:
            self.send_account_updates(self.state.account_updates)
        for req_id, account in list(self.state.account_updates_multi.items()):
            self.send_account_updates_multi(req_id, account)
        for req_id, account in list(self.state.pnl.items()):
            self.send_pnl(req_id, account)
        for req_id, (account, con_id) in list(self.state.pnl_single.items()):
            self.send_pnl_single(req_id, account, con_id)

    def push_position(self, account_id: str, spec: ContractSpec) -> None:
        """A position update for reqPositions/reqPositionsMulti subscribers."""
        pos = self.venue.accounts[account_id].positions.get(spec.con_id)
        if pos is None:
            return
        if self.state.positions:
            self.send(enc.position(account_id, spec, pos.quantity, pos.avg_cost))
        for req_id, account in self.state.positions_multi.items():
            if account in ("", "All", account_id):
                self.send(enc.position_multi(req_id, account_id, spec, pos.quantity, pos.avg_cost))

    def _known_account(self, req_id: int, account: str, request: str) -> bool:
        """True for a managed account; else error 321 as TWS words it for ``request``."""
        if account in self.venue.accounts:
            return True
        self.error(
            req_id,
            321,
            f"Error validating request.-'{request}' : cause - Unknown account {account}",
        )
        return False
