"""Accounts: cash, positions, realised P&L and the values TWS reports about them.

Margin follows a plain Reg-T model (stocks 50% initial / 25% maintenance, options and crypto
fully paid) which is enough for clients that need the summary tags to exist and agree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal

from seraphim.sim.ibkr.contracts import ContractSpec

# The tags nautilus waits for before it has an account, plus the rest of AllTags.
SUMMARY_TAGS = (
    "AccountType",
    "NetLiquidation",
    "TotalCashValue",
    "SettledCash",
    "AccruedCash",
    "BuyingPower",
    "EquityWithLoanValue",
    "PreviousDayEquityWithLoanValue",
    "GrossPositionValue",
    "RegTEquity",
    "RegTMargin",
    "SMA",
    "InitMarginReq",
    "MaintMarginReq",
    "AvailableFunds",
    "ExcessLiquidity",
    "Cushion",
    "FullInitMarginReq",
    "FullMaintMarginReq",
    "FullAvailableFunds",
    "FullExcessLiquidity",
    "LookAheadNextChange",
    "LookAheadInitMarginReq",
    "LookAheadMaintMarginReq",
    "LookAheadAvailableFunds",
    "LookAheadExcessLiquidity",
    "HighestSeverity",
    "DayTradesRemaining",
    "Leverage",
)
LEDGER_TAGS = (
    "Currency",
    "CashBalance",
    "TotalCashBalance",
    "AccruedCash",
    "StockMarketValue",
    "OptionMarketValue",
    "FutureOptionValue",
    "FuturesPNL",
    "NetLiquidationByCurrency",
    "UnrealizedPnL",
    "RealizedPnL",
    "ExchangeRate",
    "FundValue",
    "NetDividend",
    "MutualFundValue",
    "MoneyMarketFundValue",
    "CorporateBondValue",
    "TBondValue",
    "TBillValue",
    "WarrantValue",
    "FxCashBalance",
    "AccountOrGroup",
    "RealCurrency",
    "IssuerOptionValue",
)

MarkFn = Callable[[ContractSpec], float]


@dataclass
class Position:
    """A holding in one contract; ``avg_cost`` includes the multiplier, as TWS reports it."""

    spec: ContractSpec
    quantity: Decimal = Decimal(0)
    avg_cost: float = 0.0
    realized_pnl: float = 0.0


@dataclass
class Account:
    """One managed account in a single base currency."""

    account_id: str
    currency: str = "USD"
    cash: float = 1_000_000.0
    positions: dict[int, Position] = field(default_factory=dict)
    realized_pnl: float = 0.0
    commissions: float = 0.0

    def position(self, con_id: int) -> Decimal:
        """Current quantity in a contract (0 when flat or never traded)."""
        pos = self.positions.get(con_id)
        return pos.quantity if pos else Decimal(0)

    def apply_fill(
        self, spec: ContractSpec, side: str, quantity: Decimal, price: float, commission: float
    ) -> float:
        """Book one execution; returns the realised P&L it produced (0 for opening trades)."""
        mult = spec.value_multiplier
        signed = quantity if side == "BOT" else -quantity
        pos = self.positions.setdefault(spec.con_id, Position(spec))
        realized = 0.0
        old = pos.quantity
        unit_cost = price * mult
        if old == 0 or (old > 0) == (signed > 0):
            total = float(abs(old)) * pos.avg_cost + float(abs(signed)) * unit_cost
            pos.quantity = old + signed
            pos.avg_cost = total / float(abs(pos.quantity)) if pos.quantity else 0.0
        else:
            closing = min(abs(old), abs(signed))
            direction = 1.0 if old > 0 else -1.0
            realized = direction * float(closing) * (unit_cost - pos.avg_cost)
            pos.quantity = old + signed
            if pos.quantity == 0:
                pos.avg_cost = 0.0
            elif (pos.quantity > 0) != (old > 0):
                pos.avg_cost = unit_cost
        realized -= commission
        pos.realized_pnl += realized
        self.realized_pnl += realized
        self.commissions += commission
        # Rounded so float noise (999996.6000000001) never reaches what TWS reports.
        self.cash = round(self.cash - (float(signed) * unit_cost + commission), 8)
        return realized

    def open_positions(self) -> list[Position]:
        """Positions ever traded (flat ones included, as TWS keeps them for the session)."""
        return list(self.positions.values())

    def values(self, mark: MarkFn) -> dict[str, float]:
        """The numeric account values at current marks."""
        stock_value = option_value = crypto_value = 0.0
        gross = unrealized = init = maint = 0.0
        for pos in self.positions.values():
            if pos.quantity == 0:
                continue
            value = float(pos.quantity) * mark(pos.spec) * pos.spec.value_multiplier
            unrealized += value - float(pos.quantity) * pos.avg_cost
            gross += abs(value)
            if pos.spec.sec_type == "STK":
                stock_value += value
                init += 0.5 * abs(value)
                maint += 0.25 * abs(value)
            elif pos.spec.is_option:
                option_value += value
                init += abs(value)
                maint += abs(value)
            else:
                crypto_value += value
                init += abs(value)
                maint += abs(value)
        nlv = self.cash + stock_value + option_value + crypto_value
        available = nlv - init
        excess = nlv - maint
        return {
            "NetLiquidation": nlv,
            "TotalCashValue": self.cash,
            "SettledCash": self.cash,
            "AccruedCash": 0.0,
            "BuyingPower": max(0.0, available) * 4.0,
            "EquityWithLoanValue": nlv,
            "PreviousDayEquityWithLoanValue": nlv,
            "GrossPositionValue": gross,
            "RegTEquity": nlv,
            "RegTMargin": init,
            "SMA": max(0.0, available),
            "InitMarginReq": init,
            "MaintMarginReq": maint,
            "AvailableFunds": available,
            "ExcessLiquidity": excess,
            "Cushion": excess / nlv if nlv else 0.0,
            "FullInitMarginReq": init,
            "FullMaintMarginReq": maint,
            "FullAvailableFunds": available,
            "FullExcessLiquidity": excess,
            "LookAheadInitMarginReq": init,
            "LookAheadMaintMarginReq": maint,
            "LookAheadAvailableFunds": available,
            "LookAheadExcessLiquidity": excess,
            "Leverage": gross / nlv if nlv else 0.0,
            "StockMarketValue": stock_value,
            "OptionMarketValue": option_value,
            "CryptocurrencyValue": crypto_value,
            "UnrealizedPnL": unrealized,
            "RealizedPnL": self.realized_pnl,
            "CashBalance": self.cash,
            "TotalCashBalance": self.cash,
            "NetLiquidationByCurrency": nlv,
        }

    def summary_rows(self, tags: str, mark: MarkFn) -> list[tuple[str, str, str]]:
        """(tag, value, currency) rows for reqAccountSummary's comma-separated tag list."""
        values = self.values(mark)
        wanted = [t.strip() for t in tags.split(",") if t.strip()]
        rows: list[tuple[str, str, str]] = []
        for tag in wanted:
            if tag.startswith("$LEDGER"):
                rows.extend(self._ledger_rows(values))
            elif tag == "AccountType":
                rows.append((tag, "INDIVIDUAL", ""))
            elif tag == "LookAheadNextChange":
                rows.append((tag, "0", ""))
            elif tag == "HighestSeverity":
                rows.append((tag, "", ""))
            elif tag == "DayTradesRemaining":
                rows.append((tag, "-1", ""))
            elif tag in ("Cushion", "Leverage"):
                rows.append((tag, f"{values[tag]:.6f}", ""))
            elif tag in values:
                rows.append((tag, _money(values[tag]), self.currency))
        return rows

    def _ledger_rows(self, values: dict[str, float]) -> list[tuple[str, str, str]]:
        rows = [("Currency", self.currency, self.currency), ("ExchangeRate", "1.00", self.currency)]
        for tag in LEDGER_TAGS:
            if tag in values:
                rows.append((tag, _money(values[tag]), self.currency))
        return rows

    def update_rows(self, mark: MarkFn) -> list[tuple[str, str, str]]:
        """(key, value, currency) rows for reqAccountUpdates / reqAccountUpdatesMulti."""
        values = self.values(mark)
        rows: list[tuple[str, str, str]] = [
            ("AccountCode", self.account_id, ""),
            ("AccountType", "INDIVIDUAL", ""),
            ("AccountReady", "true", ""),
            ("Currency", self.currency, self.currency),
            ("Currency", "BASE", "BASE"),
        ]
        for key in (
            "BuyingPower",
            "EquityWithLoanValue",
            "ExcessLiquidity",
            "FullAvailableFunds",
            "FullExcessLiquidity",
            "FullInitMarginReq",
            "FullMaintMarginReq",
            "GrossPositionValue",
            "InitMarginReq",
            "MaintMarginReq",
            "AvailableFunds",
            "NetLiquidation",
            "TotalCashValue",
            "SettledCash",
        ):
            rows.append((key, _money(values[key]), self.currency))
        for key in (
            "CashBalance",
            "TotalCashBalance",
            "NetLiquidationByCurrency",
            "StockMarketValue",
            "OptionMarketValue",
            "UnrealizedPnL",
            "RealizedPnL",
        ):
            rows.append((key, _money(values[key]), self.currency))
            rows.append((key, _money(values[key]), "BASE"))
        return rows


def _money(x: float) -> str:
    return f"{x:.2f}"
