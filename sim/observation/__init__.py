"""Observation channels: what the model state predicts for each measured series, one object
per series (its data, observation model with estimated loading and noise, likelihood,
replicated observations and plot).

=========================  ==========  ==========================================  ===========
channel                    family      observation model                           model input
=========================  ==========  ==========================================  ===========
``un_distance``            unga_votes  d = a - λ x̄ + AR(1) Gaussian                 x̄ (dyad)
``rollcall_agreement``     unga_votes  BetaBinomial(n, logistic(a + λ z̄ + τ u_y))   z̄ (dyad)
``statedept_coincidence``  unga_votes  BetaBinomial(n, logistic(a + λ z̄))           z̄ (USA-X)
``icews_coop``             events      BetaBinomial(n, logistic(a + λ z_ij))        z_ij
``trade_usa_chn_monthly``  trade       log-normal, season, trend, CNY, AR(1)        imports
``trade_chn_rus_annual``   trade       log-normal, trend, Brent                     imports
=========================  ==========  ==========================================  ===========

Relations drive two independent observables: the UN votes (three channels of one family: use
them as one source) and the ICEWS events. Every channel refuses data after 2019
(:class:`HeldOutError`); data are read from :func:`sim.resources.data_dir`.
"""

from __future__ import annotations

from sim.observation.channel import (
    CALIBRATION_END,
    Channel,
    HeldOutError,
    ObsParam,
    Theta,
)
from sim.observation.icews import IcewsCoop
from sim.observation.trade import TradeChnRusAnnual, TradeUsaChnMonthly
from sim.observation.view import SimView
from sim.observation.votes import RollcallAgreement, StatedeptCoincidence, UnDistance

CHANNELS: dict[str, Channel] = {ch.name: ch for ch in (
    UnDistance(), RollcallAgreement(), StatedeptCoincidence(), IcewsCoop(),
    TradeUsaChnMonthly(), TradeChnRusAnnual())}
"""Every observation channel by name."""


def all_params() -> dict[str, ObsParam]:
    """Every channel's observation parameters by dotted name."""
    return {p.name: p for ch in CHANNELS.values() for p in ch.params}


def defaults() -> dict[str, float]:
    """Default value of every observation parameter."""
    return {name: p.default for name, p in all_params().items()}


def figure(*args: object, **kwargs: object) -> object:
    """:func:`sim.observation.figure.figure` (imports matplotlib only when called)."""
    from sim.observation.figure import figure as _figure

    return _figure(*args, **kwargs)


__all__ = ["CALIBRATION_END", "CHANNELS", "Channel", "HeldOutError", "ObsParam", "SimView",
           "Theta", "all_params", "defaults", "figure"]
