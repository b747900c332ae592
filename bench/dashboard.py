"""Latency of the scenario explorer (issue 13): from a control change to updated figures, for
the baseline at 500 runs (goal: within 1 s on the project's 2-core machine).

    python bench/dashboard.py               # in-process, 5 repeats (about half a minute)
    python bench/dashboard.py --browser     # and in headless Chromium (another minute)

In-process: after a warm-up (numba compiled, the reference ensemble cached as the page caches
it), each repeat changes the magnitude of the May 2024 tariffs (a new 500-run ensemble, paired
with the cached reference) and times :func:`sim.dashboard.page.compute`: the answer and its
tables, then the first views it draws (:data:`FIRST`: the relations fan chart; the table of
paired differences comes with the answer); then every other figure the page shows
(:data:`SHOWN` and :data:`AT_DATE`), one after another as the page draws them. Wall and CPU
seconds (CPU: the cost on one core, less distorted by other users).

In the browser (``--browser``; the server and browser harness of
tests/test_dashboard_browser.py): ``solara run sim/app.py`` on 127.0.0.1, Chromium at 1366x768;
each repeat switches the tariffs off (a new ensemble) and times the click to the new relations
image in the page's own clock (a click listener and a MutationObserver, :data:`WATCH`; also as
Playwright observes it, which adds its polling), and to all seven figures drawn; then switches
them back on (the unchanged scenario: the cached reference, not timed).

Medians of the repeats; the 1-minute load average at start and end is recorded (the machine
is shared). Writes ``bench/dashboard_results.json`` and prints a line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from common import ROOT, machine  # bench/common.py

from sim.cli import explore_command, explore_env
from sim.dashboard import WhatIf
from sim.dashboard.page import AT_DATE, FIRST, SHOWN, compute, draw

OUT = Path(__file__).resolve().parent / "dashboard_results.json"
RUNS, SEED = 500, 1
LEVER = "event:may2024_tariffs.scale"
SWITCH = "event:may2024_tariffs.on"


def in_process(repeats: int) -> dict:
    """Seconds from a change of the tariffs' magnitude to the answer, the first views and every
    figure (wall and CPU), per repeat and their medians."""
    cache: dict = {}
    shown = compute(WhatIf("baseline"), RUNS, SEED, cache)  # warm-up: compile, cache reference
    for name in (*SHOWN, *AT_DATE):
        draw(shown.answer, name)
    rows = []
    for k in range(repeats):
        whatif = WhatIf("baseline", {LEVER: round(0.5 + 0.1 * k, 1)})
        wall, cpu = time.perf_counter(), time.process_time()
        shown = compute(whatif, RUNS, SEED, cache)  # the answer and the FIRST figures
        row = {"change": dict(whatif.changes), "answer": shown.answer_seconds,
               "first_views": time.perf_counter() - wall}
        for name in (*SHOWN, *AT_DATE):
            if name not in FIRST:
                draw(shown.answer, name)
        row["all_figures"] = time.perf_counter() - wall
        row["all_figures_cpu"] = time.process_time() - cpu
        rows.append({k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()})
    return {"repeats": rows, **medians(rows, ("answer", "first_views", "all_figures",
                                              "all_figures_cpu"))}


def medians(rows: list[dict], keys: tuple[str, ...]) -> dict:
    return {f"median_{k}_seconds": round(statistics.median(r[k] for r in rows), 3)
            for k in keys}


WATCH = """(old) => {
  window._simClick = null; window._simShown = null;
  document.addEventListener("click", () => { window._simClick = performance.now(); },
                            {capture: true, once: true});
  const seen = () => {
    const img = document.querySelector("img.sim-fig-relations");
    if (window._simShown === null && window._simClick !== null && img
        && !img.classList.contains(old) && !img.classList.contains("sim-stale")) {
      window._simShown = performance.now(); observer.disconnect();
    }
  };
  const observer = new MutationObserver(seen);
  observer.observe(document.body, {subtree: true, childList: true, attributes: true});
}"""
"""In the page: the time of the next click and of the first DOM change that shows a new,
undimmed relations image (``old``: the class of the request shown before the click). Timed in
the page's own clock, so Playwright's polling (about 0.3 s here) is not counted."""


def in_browser(repeats: int) -> dict:
    """Seconds from the click on the tariffs' switch (off: a new ensemble) to the new relations
    image shown, and to all figures drawn, in headless Chromium."""
    sys.path.insert(0, str(ROOT / "tests"))
    import test_dashboard_browser as harness  # the tests' server and browser helpers
    from playwright.sync_api import expect, sync_playwright

    port = harness._free_port()
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"sim-bench-dashboard-{port}.log"
    with log.open("w") as out:  # the server as `sim explore --no-open` starts it
        proc = subprocess.Popen(
            explore_command(port, no_open=True), cwd=ROOT, env=explore_env(),
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
    rows = []
    try:
        url = f"http://{harness.HOST}:{port}/"
        harness._wait_until_up(proc, url, log)
        with sync_playwright() as pw:
            chromium = pw.chromium.launch(executable_path=harness._chromium(),
                                          args=harness.CHROMIUM_ARGS)
            page = chromium.new_page(viewport=harness.LAPTOP)
            page.set_default_timeout(harness.ANSWER_MS)
            page.goto(url)
            figures = page.locator(".sim-explorer img[class*=sim-fig-]")
            stale = page.locator(".sim-explorer img.sim-stale")

            def drawn() -> None:
                expect(figures).to_have_count(harness.FIGURES, timeout=harness.ANSWER_MS)
                expect(stale).to_have_count(0, timeout=harness.ANSWER_MS)

            drawn()
            page.get_by_text("Events (0 changed)").click()
            switch = page.locator(".sim-control-event-may2024_tariffs-on").get_by_role("switch")
            switch.wait_for(state="attached")
            page.locator(".sim-control-event-may2024_tariffs-on").wait_for()
            for _ in range(repeats):
                classes = page.locator("img.sim-fig-relations").get_attribute("class") or ""
                old = next(c for c in classes.split() if c.startswith("sim-for-"))
                page.evaluate(WATCH, old)  # the page's own clock: click to new image
                start = time.perf_counter()
                switch.click(force=True)
                page.locator(f"img.sim-fig-relations:not(.{old}):not(.sim-stale)").wait_for()
                observed = time.perf_counter() - start
                expect(page.get_by_text("Events (1 changed)")).to_be_visible()
                drawn()
                in_page = page.evaluate("window._simShown - window._simClick") / 1000
                rows.append({"new_relations_image": round(in_page, 3),
                             "new_relations_image_observed": round(observed, 3),
                             "all_figures": round(time.perf_counter() - start, 3)})
                changed = page.locator("img.sim-fig-relations").get_attribute("class") or ""
                new = next(c for c in changed.split() if c.startswith("sim-for-"))
                switch.click(force=True)  # back on: the cached reference (not timed)
                expect(page.get_by_text("Events (0 changed)")).to_be_visible()
                page.locator(f"img.sim-fig-relations:not(.{new}):not(.sim-stale)").wait_for()
                drawn()
            chromium.close()
    finally:
        harness._stop(proc)
    return {"repeats": rows, **medians(rows, ("new_relations_image",
                                              "new_relations_image_observed", "all_figures"))}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--browser", action="store_true", help="also time it in headless Chromium")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    res: dict = {"scenario": "baseline", "runs": RUNS, "seed": SEED, "machine": machine(),
                 "target_seconds": 1.0, "in_process": in_process(args.repeats)}
    if args.browser:
        res["browser"] = in_browser(args.repeats)
    res["load_average_1min_at_end"] = round(os.getloadavg()[0], 2)
    args.out.write_text(json.dumps(res, indent=2) + "\n")
    p = res["in_process"]
    line = (f"explorer, baseline at {RUNS} runs (median of {args.repeats}): answer "
            f"{p['median_answer_seconds']:.2f} s, first views {p['median_first_views_seconds']:.2f}"
            f" s, all figures {p['median_all_figures_seconds']:.2f} s "
            f"(CPU {p['median_all_figures_cpu_seconds']:.2f} s)")
    if args.browser:
        b = res["browser"]
        line += (f"; browser: new fan chart {b['median_new_relations_image_seconds']:.2f} s "
                 f"in the page's clock ({b['median_new_relations_image_observed_seconds']:.2f} s "
                 f"as Playwright sees it), all figures {b['median_all_figures_seconds']:.2f} s")
    print(f"{line}; load {res['machine']['load_average_1min_at_start']:.1f} at start, "
          f"{res['load_average_1min_at_end']:.1f} at end")
    return res


if __name__ == "__main__":
    main()
