"""The surveys' forms: building and scheduling a survey, filtering a wave's invitations, and the
recipient's answers."""

from __future__ import annotations

from typing import Any

from django import forms

from moclab.web.practice.models import Organisation, Site
from moclab.web.surveys.items import SurveyItem, instrument_choices, pathway_choices
from moclab.web.surveys.models import Survey

DEFAULT_CONSENT = (
    "This short survey asks how the implementation support you receive is going. Taking part is voluntary: "
    "you may skip any question and stop at any time. Your answers are stored under a pseudonymous code, "
    "apart from your name and e-mail address, and are reported only in summaries."
)


class SurveyForm(forms.ModelForm):
    """Build a survey from the catalog and schedule it; the consent text gets a new version when changed."""

    instruments = forms.MultipleChoiceField(
        choices=instrument_choices, required=False, widget=forms.CheckboxSelectMultiple, label="Instruments"
    )
    pathway_items = forms.MultipleChoiceField(
        choices=pathway_choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Recipient-pathway stages (one rating each, 1 = very low to 5 = very high)",
    )
    consent_text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=5000,
        label="Consent text",
        help_text="Shown before the questions; a changed text is a new version, recorded with each answer.",
    )

    class Meta:
        model = Survey
        fields = [
            "title",
            "subject",
            "instruments",
            "pathway_items",
            "site",
            "schedule",
            "every_weeks",
            "start_date",
            "expiry_days",
            "reminder_days",
            "active",
        ]
        widgets = {
            "schedule": forms.RadioSelect,
            "start_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }
        labels = {"every_weeks": "Every how many weeks", "expiry_days": "Open for (days)"}

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.organisation = organisation
        self.instance.organisation = organisation
        self.fields["site"].queryset = Site.objects.filter(organisation=organisation)
        self.fields["site"].empty_label = "All the organisation's recipients"
        consent = self.instance.consent if self.instance.pk else None
        self.fields["consent_text"].initial = consent.text if consent else DEFAULT_CONSENT

    def clean_title(self) -> str:
        title = self.cleaned_data["title"]
        clash = Survey.objects.filter(organisation=self.organisation, title=title).exclude(
            pk=self.instance.pk
        )
        if clash.exists():
            raise forms.ValidationError("the organisation has a survey of this title already")
        return title

    def save(self, commit: bool = True) -> Survey:
        survey = super().save(commit=commit)
        if commit:
            survey.set_consent(self.cleaned_data["consent_text"])
        return survey


#: The states of an invitation's response, as a wave's page shows and filters them.
RESPONSE_STATES: dict[str, str] = {
    "none": "No response",
    "consented": "Consented, nothing answered",
    "partial": "Answered partly",
    "submitted": "Submitted",
}


class WaveFilterForm(forms.Form):
    """A wave's invitations filtered by the state of their response (``?state=partial``), or all."""

    state = forms.ChoiceField(
        choices=[("", "Every state"), *RESPONSE_STATES.items()], required=False, label="Response"
    )


class AnswerForm(forms.Form):
    """The recipient's answers: one optional radio group per item, values from the item's scale."""

    def __init__(self, *args: Any, items: list[SurveyItem], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.items = items
        for item in items:
            self.fields[item.key] = forms.TypedChoiceField(
                choices=item.options(),
                coerce=int,
                required=False,
                empty_value=None,
                widget=forms.RadioSelect,
                label=item.question,
            )

    def answered(self) -> dict[str, int]:
        """The items given a value in this post (a skipped item is left as saved before)."""
        return {key: value for key, value in self.cleaned_data.items() if value is not None}

    def rows(self, saved: dict[str, int]) -> list[dict[str, Any]]:
        """What the template shows per item: the item, its options with the checked one, its errors."""
        rows = []
        for number, item in enumerate(self.items, start=1):
            bound = self[item.key]
            current = bound.value() if self.is_bound else saved.get(item.key)
            rows.append(
                {
                    "number": number,
                    "item": item,
                    "name": item.key,
                    "options": [
                        {
                            "value": value,
                            "text": text,
                            "id": f"item-{item.key}-{value}",
                            "checked": current is not None and str(current) == str(value),
                        }
                        for value, text in item.options()
                    ],
                    "errors": bound.errors,
                }
            )
        return rows
