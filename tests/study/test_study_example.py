"""The bundled example study: reproducible from its generator, small, labelled synthetic, documented."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from moclab.model import template_path
from moclab.study import example_path, new_study

ROOT = Path(__file__).parents[2]


def load_generator():
    spec = importlib.util.spec_from_file_location(
        "make_example_study", ROOT / "scripts" / "make_example_study.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_generator_reproduces_the_shipped_files_exactly(tmp_path: Path) -> None:
    load_generator().generate(tmp_path)
    for name in (
        "data/recipients.csv",
        "data/measures.csv",
        "data/activities.csv",
        "data/outcomes.csv",
        "model.yaml",
    ):
        assert (tmp_path / name).read_bytes() == (example_path() / name).read_bytes(), name


def test_the_example_model_is_the_recipient_pathway_template() -> None:
    shipped = (example_path() / "model.yaml").read_text(encoding="utf-8")
    assert shipped.endswith(template_path("recipient-pathway").read_text(encoding="utf-8"))


def test_the_example_is_small_and_labelled_synthetic() -> None:
    size = sum(path.stat().st_size for path in example_path().rglob("*") if path.is_file())
    assert size < 500_000
    config = (example_path() / "moclab.yaml").read_text(encoding="utf-8")
    assert "synthetic: true" in config and "SYNTHETIC EXAMPLE" in config
    assert "Not real people" in (example_path() / "README.md").read_text(encoding="utf-8")


def test_the_docs_show_the_example_config_verbatim() -> None:
    docs = (ROOT / "docs" / "study-format.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", docs, flags=re.DOTALL)
    assert (example_path() / "moclab.yaml").read_text(encoding="utf-8") in blocks


def test_new_study_wires_the_template_nodes(tmp_path: Path) -> None:
    dest = new_study(tmp_path / "s", template="recipient-pathway")
    config = (dest / "moclab.yaml").read_text(encoding="utf-8")
    assert "arm: {type: category, node: isp_support}" in config
    assert "engagement_length: {type: category, node: engagement_length" in config
    assert '  trust: {label: "Trust", range: [1, 5], level: individual}' in config
    assert (dest / "data" / "recipients.csv").read_text() == "recipient_id,site,team,arm,engagement_length\n"
    assert (dest / "model.yaml").read_bytes() == template_path("recipient-pathway").read_bytes()
    assert "Created by `moclab new`" in config and "engagement_length" in (dest / "README.md").read_text()
