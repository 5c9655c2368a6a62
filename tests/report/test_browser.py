"""The report renders in headless Chromium (installed by `make setup`: scripts/install-system-deps.sh)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib import image as mpimg

from moclab.report.browser import dump_dom, screenshot

from .html_tree import parse


def test_chromium_builds_the_page_and_draws_it(tmp_path: Path, example_report):
    page = example_report.write(tmp_path / "report")
    dom = parse(dump_dom(page))
    # Chromium read the whole page: the matrix, every pathway section and the inline figures survive
    cells = dom.find("table", class_="scorecard").find_all("td")
    assert len(cells) == 2 * (1 + 7)  # the conclusion and the seven criteria
    assert len(dom.find_all("section", class_="pathway")) == 2
    assert len(dom.find_all("svg")) == len([f for f in example_report.figures if f.svg])

    image_path = screenshot(page, tmp_path / "report.png", width=1200, height=4000)
    image = np.rint(mpimg.imread(image_path)[..., :3] * 255).astype(int)
    assert image.shape == (4000, 1200, 3)
    # the stylesheet was applied: the banner's yellow and, below the conclusions, the green of "met" cells
    colours = {tuple(int(c) for c in pixel) for pixel in image.reshape(-1, 3)[::7]}
    assert (0xFF, 0xF8, 0xC5) in colours  # --banner-bg
    assert (0xDA, 0xFB, 0xE1) in colours  # --met-bg
