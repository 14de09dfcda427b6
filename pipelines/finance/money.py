"""How an amount is written for people (alerts, the monthly report): with its currency, never a bare number.

Also how many minor units (cents) a currency has: chargeback rounds to them so teams add up to the month.
"""

from __future__ import annotations

CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}

# ISO 4217 currencies with no minor unit (or three): everything else has two.
MINOR_UNITS = {**{c: 0 for c in ("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX",
                                  "UYI", "VND", "VUV", "XAF", "XOF", "XPF")},
                **{c: 3 for c in ("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND")}}


def minor_units(currency: str) -> int:
    """Decimal places of the currency's smallest unit (2 for USD and EUR, 0 for JPY, 3 for KWD)."""
    return MINOR_UNITS.get(currency, 2)


def money(value: float | None, currency: str | None = "USD", decimals: int = 2) -> str:
    """`$12,345.67`, `-€40.00`, `1,234.50 CHF`; an unknown amount is a dash, never 0."""
    if value is None:
        return "—"
    symbol = CURRENCY_SYMBOLS.get(currency or "")
    digits = f"{abs(value):,.{decimals}f}"
    sign = "-" if value < 0 and round(abs(value), decimals) != 0 else ""
    return f"{sign}{symbol}{digits}" if symbol else f"{sign}{digits} {currency or ''}".rstrip()
