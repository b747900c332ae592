"""Figures as the page shows and exports them: PNG bytes, tables as CSV."""

from __future__ import annotations

import threading
from collections.abc import Callable
from io import BytesIO

from matplotlib.figure import Figure

DPI = 80  # readable at 1366 px wide, small to send
_RENDER = threading.RLock()  # pyplot's figure registry is not thread-safe (sessions' tasks)


def png(fig: Figure) -> bytes:
    """``fig`` as PNG bytes at :data:`DPI`; closes it (if pyplot made it)."""
    import matplotlib.pyplot as plt

    buffer = BytesIO()
    with _RENDER:
        fig.savefig(buffer, format="png", dpi=DPI)
        plt.close(fig)
    return buffer.getvalue()


def render(make: Callable[[], Figure], wanted: Callable[[], bool] = lambda: True) -> bytes | None:
    """PNG bytes of the figure ``make()`` builds, holding the render lock while it builds and
    saves; None (nothing drawn) if ``wanted()`` is False once the lock is free."""
    with _RENDER:
        if not wanted():
            return None
        return png(make())
