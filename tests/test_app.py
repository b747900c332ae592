"""The dashboard renders headless and its controls rebuild the model (as Reset does)."""

from __future__ import annotations

import pytest

solara = pytest.importorskip("solara")  # the dashboard is an optional extra ([viz])


def test_dashboard_renders_plots_and_decisions():
    import ipywidgets

    import sim.app as app

    _, rc = solara.render(app.page, handle_error=False)
    assert len(rc.find(ipywidgets.Image).widgets) == 2  # relations and balanced triads
    text = repr(rc.find().widgets[0])
    assert "Putin" in text and "CHN: 0 decision(s)" in text


def test_dashboard_controls_are_model_keywords():
    import sim.app as app
    from sim.model import AlignmentModel

    for scenario in app.model_params["scenario"]["values"]:
        model = AlignmentModel(scenario=scenario, rng=app.model_params["rng"]["value"])
        model.run_for(2)
        assert set(model.datacollector.model_vars) >= {"USA-CHN", "balanced_share"}
