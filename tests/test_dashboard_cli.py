"""``sim explore``: the ``solara run`` command it starts, and its clear errors (exit 2) when the
viz extra is missing or the port is taken."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

from sim import cli


def test_explore_runs_solara_on_the_app_on_localhost(monkeypatch):
    started: list[list[str]] = []
    monkeypatch.setattr("subprocess.call", lambda argv, env: started.append(argv) or 0)
    with socket.socket() as s:  # a port free now
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert cli.main(["explore", "--port", str(port), "--no-open"]) == 0
    (argv,) = started
    assert argv[:4] == [sys.executable, "-m", "solara", "run"]
    app = Path(argv[4])
    assert app.name == "app.py" and app.parent.name == "sim" and app.is_file()
    assert argv[argv.index("--host") + 1] == "127.0.0.1"
    assert argv[argv.index("--port") + 1] == str(port)
    assert "--no-open" in argv


def test_explore_without_the_viz_extra_is_one_clear_error(monkeypatch, capsys):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "solara" else real(name, *a))
    monkeypatch.setattr("subprocess.call", lambda *a, **k: pytest.fail("solara was started"))
    assert cli.main(["explore"]) == cli.EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert err.startswith("error: sim explore: solara is not installed") and "viz" in err
    assert "Traceback" not in err


def test_explore_on_a_taken_port_is_one_clear_error(monkeypatch, capsys):
    monkeypatch.setattr("subprocess.call", lambda *a, **k: pytest.fail("solara was started"))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert cli.main(["explore", "--port", str(port)]) == cli.EXIT_BAD_INPUT
    assert f"--port {port}: cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err


@pytest.mark.parametrize("port", ["0", "70000", "http"])
def test_explore_refuses_a_bad_port(port, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["explore", "--port", port])
    assert exit_.value.code == cli.EXIT_BAD_INPUT
    assert "--port" in capsys.readouterr().err
