"""The form that starts an evidence run: the template, the survey, the resamples and (optionally) the seed."""

from __future__ import annotations

from typing import Any

from django import forms

from moclab.web.evidence.study_export import portfolio_survey, template_choices
from moclab.web.evidence.tasks import DEFAULT_RESAMPLES
from moclab.web.practice.models import Organisation
from moclab.web.surveys.models import Schedule, Survey

#: The fewest and most resamples a run may ask for (moclab's own floor is 100).
MIN_RESAMPLES, MAX_RESAMPLES = 100, 10000


class RunForm(forms.Form):
    """What a run is asked: which template, which survey's answers, how many resamples, which seed."""

    template = forms.ChoiceField(
        label="Pathway model",
        help_text="The template the portfolio is judged against; in brackets, how many of its pathways the "
        "survey measures.",
    )
    survey = forms.ModelChoiceField(
        queryset=Survey.objects.none(),
        label="Pulse survey",
        empty_label=None,
        help_text="Its waves are the study's waves, its answers the measures (surveys every N weeks only).",
    )
    n_boot = forms.IntegerField(
        label="Bootstrap resamples",
        min_value=MIN_RESAMPLES,
        max_value=MAX_RESAMPLES,
        initial=DEFAULT_RESAMPLES,
        help_text=f"{MIN_RESAMPLES} to {MAX_RESAMPLES}; more give steadier intervals and take longer.",
    )
    seed = forms.IntegerField(
        label="Seed (optional)",
        required=False,
        min_value=0,
        max_value=2**31 - 2,
        help_text="Leave empty to draw one; the run records it, so every number can be reproduced.",
    )

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        surveys = Survey.objects.filter(organisation=organisation, schedule=Schedule.EVERY_N_WEEKS)
        survey_field = self.fields["survey"]
        assert isinstance(survey_field, forms.ModelChoiceField)
        survey_field.queryset = surveys.order_by("title")
        default = portfolio_survey(organisation)
        survey_field.initial = default
        template_field = self.fields["template"]
        assert isinstance(template_field, forms.ChoiceField)
        template_field.choices = template_choices(default)
        template_field.initial = template_field.choices[0][0] if template_field.choices else None
