"""The plans, in one table of configuration, and what each allows.

Adding a plan is one entry in PLANS (its Stripe product and price are created from it by
`stripe_api.ensure_catalog`). Plans are ordered from the smallest; a plan's `rank` is its
position, so "a way up" is the next plan that allows what was refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel


@dataclass(frozen=True)
class Plan:
    """One plan: its limits and its monthly price. `regions` None means every region;
    `live_keys` False means only local-exchange and testnet API keys."""

    key: str
    name: str
    max_bots: int
    live_keys: bool
    regions: frozenset[str] | None
    monthly_cents: int
    currency: str = "usd"

    @property
    def stripe_product(self) -> str:
        return f"plutarc-{self.key}"

    @property
    def stripe_price(self) -> str:
        """The Stripe price (a Plan object with this id: localstripe knows plans, not prices;
        real Stripe accepts a plan id wherever it takes a price)."""
        return f"plutarc-{self.key}-monthly"

    @property
    def paid(self) -> bool:
        return self.monthly_cents > 0

    def allows_region(self, region: str) -> bool:
        return self.regions is None or region in self.regions


PLANS: tuple[Plan, ...] = (
    Plan("free", "Free", max_bots=1, live_keys=False, regions=frozenset({"local"}),
         monthly_cents=0),
    Plan("pro", "Pro", max_bots=5, live_keys=True, regions=None, monthly_cents=2900),
    Plan("team", "Team", max_bots=25, live_keys=True, regions=None, monthly_cents=9900),
)
FREE = PLANS[0]
BY_KEY: dict[str, Plan] = {p.key: p for p in PLANS}
BY_PRICE: dict[str, Plan] = {p.stripe_price: p for p in PLANS if p.paid}


def plan(key: str) -> Plan:
    """The plan `key`; an unknown key (a plan removed from the table) counts as Free."""
    return BY_KEY.get(key, FREE)


def way_up(current: Plan, allows: object) -> Plan | None:
    """The smallest plan above `current` for which `allows(plan)` is true, if any."""
    for candidate in PLANS:
        if candidate.monthly_cents > current.monthly_cents and allows(candidate):  # type: ignore[operator]
            return candidate
    return None


class PlanInfo(BaseModel):
    """A plan as `billing:plans` shows it."""

    key: str
    name: str
    max_bots: int
    live_keys: bool
    regions: list[str] | None
    monthly_cents: int
    currency: str
    stripe_price: str | None


def info(p: Plan) -> PlanInfo:
    return PlanInfo(
        key=p.key, name=p.name, max_bots=p.max_bots, live_keys=p.live_keys,
        regions=sorted(p.regions) if p.regions is not None else None,
        monthly_cents=p.monthly_cents, currency=p.currency,
        stripe_price=p.stripe_price if p.paid else None,
    )
