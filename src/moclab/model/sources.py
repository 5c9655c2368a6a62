"""Finding the model a user means: a model file, a study folder, or the name of a bundled template.

`find_model` is the one place that knows these three forms, so every command that takes a model
(``moclab draw``, ``moclab model validate``/``export``, and later the study commands) accepts the same things.
A study folder names its model in ``moclab.yaml`` under ``model:``, a path relative to the folder.
"""

from __future__ import annotations

from pathlib import Path

from moclab.errors import ConfigError, ModelError, did_you_mean, display_path
from moclab.model.templates import list_templates, template_path
from moclab.yamlio import load_yaml

STUDY_CONFIG = "moclab.yaml"


def find_model(source: str | Path) -> Path:
    """The model YAML file that `source` names.

    Parameters
    ----------
    source : str or Path
        A model YAML file, a study folder (its ``moclab.yaml`` has ``model: path/to/model.yaml``), or a
        template name such as ``recipient-pathway``. An existing file or folder wins over a template of the
        same name.

    Returns
    -------
    Path
        The model file (it exists).

    Raises
    ------
    ConfigError
        The study's ``moclab.yaml`` has no usable ``model:`` entry, or names a missing file (with its line).
    ModelError
        `source` is none of the three.

    Examples
    --------
    >>> from moclab.model import find_model
    >>> from moclab.study import example_path
    >>> find_model("recipient-pathway").name  # a template
    'recipient-pathway.yaml'
    >>> find_model(example_path()).name  # a study folder: the model its moclab.yaml names
    'model.yaml'
    >>> from moclab.errors import ModelError
    >>> try:
    ...     find_model("recipent-pathway")
    ... except ModelError as error:
    ...     print(error)
    'recipent-pathway' is not a model file, a study folder or a template name (did you mean
    'recipient-pathway'?)
    """
    path = Path(source)
    if path.is_dir():
        return _model_of_study(path)
    if path.is_file():
        return path
    names = list_templates()
    if str(source).strip().lower().removesuffix(".yaml").replace("_", "-") in names:
        return template_path(str(source))
    hint = did_you_mean(str(source), names) or f"templates: {', '.join(names)}"
    raise ModelError(f"'{source}' is not a model file, a study folder or a template name", hint=hint)


def _model_of_study(folder: Path) -> Path:
    config = folder / STUDY_CONFIG
    shown = display_path(config)
    if not config.is_file():
        raise ModelError(
            f"{display_path(folder)} is a folder without {STUDY_CONFIG}",
            hint="give a model YAML file, a template name, or a study folder with moclab.yaml",
        )
    data = load_yaml(config)
    if not isinstance(data, dict) or "model" not in data:
        raise ConfigError(
            f"{shown}: no 'model:' entry",
            hint="add 'model: pathway.yaml' (a path relative to the study folder)",
        )
    line, column = data.positions["model"]
    value = data["model"]
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(
            f"{shown}:{line}:{column}: 'model' must be the path of a model YAML file, "
            "relative to the study folder"
        )
    model_path = folder / value.strip()
    if not model_path.is_file():
        raise ConfigError(
            f"{shown}:{line}:{column}: the model file '{value}' was not found in {display_path(folder)}",
            hint="the path is relative to the study folder",
        )
    return model_path
