"""The activity form: one entry in under a minute on a phone.

The choices are those of the engagement only (its ISPs, the recipients and teams of its site or, for a
system, of the organisation), so a posted id from elsewhere is refused by the form itself. Catalog terms are
checkboxes grouped by their ERIC cluster or competency domain, each marked when the catalog has not verified
it.
"""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone

from moclab.web.practice import terms
from moclab.web.practice.models import Activity, Engagement, Recipient, SupportMode, Team

#: The fields "repeat last entry" copies from the engagement's latest activity.
REPEATED_FIELDS = ("minutes", "core_components", "competencies", "strategies", "support_mode")


class _UserChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.get_full_name() or obj.get_username()


class _TeamChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.name


class ActivityForm(forms.ModelForm):
    """Log or edit one activity of `engagement`."""

    isps = _UserChoice(
        queryset=get_user_model().objects.none(), widget=forms.CheckboxSelectMultiple, label="ISPs"
    )
    recipients = forms.ModelMultipleChoiceField(
        queryset=Recipient.objects.none(), widget=forms.CheckboxSelectMultiple, required=False
    )
    teams = _TeamChoice(
        queryset=Team.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Teams present",
    )
    support_mode = forms.ChoiceField(
        choices=SupportMode.choices, widget=forms.RadioSelect, label="Support mode"
    )

    class Meta:
        model = Activity
        fields = [
            "date",
            "minutes",
            "isps",
            "teams",
            "recipients",
            "support_mode",
            "core_components",
            "competencies",
            "strategies",
            "note",
        ]
        widgets = {
            "date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "minutes": forms.NumberInput(attrs={"min": 1, "max": 1440, "step": 5, "inputmode": "numeric"}),
            "note": forms.Textarea(attrs={"rows": 3, "maxlength": 2000}),
        }

    def __init__(self, *args: Any, engagement: Engagement, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.engagement = engagement
        self.instance.engagement = engagement
        if "isps" in self.fields:
            self.fields["isps"].queryset = engagement.isps.order_by("username")
        recipients = Recipient.objects.filter(organisation=engagement.organisation_id)
        teams = Team.objects.filter(site__organisation=engagement.organisation_id)
        if engagement.site_id is not None:
            recipients = recipients.filter(site=engagement.site_id)
            teams = teams.filter(site=engagement.site_id)
        if "recipients" in self.fields:
            self.fields["recipients"].queryset = recipients.order_by("pseudonym")
        self.fields["teams"].queryset = teams.order_by("name")
        for name in ("core_components", "competencies", "strategies"):
            self.fields[name] = forms.MultipleChoiceField(
                choices=terms.grouped_choices(name),
                widget=forms.CheckboxSelectMultiple,
                required=False,
                label=terms.TERM_SETS[name].label,
            )
            if self.instance.pk is not None:
                self.initial[name] = list(getattr(self.instance, name))

    def clean_date(self) -> datetime.date:
        day = self.cleaned_data["date"]
        if day > timezone.localdate():
            raise forms.ValidationError("the date is in the future")
        if not self.engagement.is_open_on(day):
            end = self.engagement.end.isoformat() if self.engagement.end else "today"
            raise forms.ValidationError(
                f"the engagement runs from {self.engagement.start.isoformat()} to {end}"
            )
        return day

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if not cleaned.get("recipients") and not cleaned.get("teams") and not self.has_error("recipients"):
            self.add_error(None, "say who was there: tick at least one team or recipient")
        return cleaned


class WeekRowForm(ActivityForm):
    """One row of the week's bulk entry: one activity of the engagement. The ISPs are the week's (given to
    every row by the view), so a row has no ISPs field; who was there is the teams present."""

    isps = None  # type: ignore[assignment]
    recipients = None  # type: ignore[assignment]
    support_mode = forms.ChoiceField(choices=[("", "Mode…"), *SupportMode.choices], label="Support mode")

    class Meta(ActivityForm.Meta):
        fields = [
            "date",
            "minutes",
            "support_mode",
            "teams",
            "core_components",
            "competencies",
            "strategies",
            "note",
        ]
        widgets = {
            **ActivityForm.Meta.widgets,
            "note": forms.TextInput(attrs={"maxlength": 2000}),
        }

    def clean(self) -> dict[str, Any]:
        cleaned = forms.ModelForm.clean(self)
        if not cleaned.get("teams") and not self.has_error("teams"):
            self.add_error("teams", "say who was there: tick at least one team")
        return cleaned


class WeekForm(forms.Form):
    """What the week's rows share: the ISPs who gave the support (the ISP themself to start with)."""

    isps = _UserChoice(
        queryset=get_user_model().objects.none(), widget=forms.CheckboxSelectMultiple, label="ISPs"
    )

    def __init__(self, *args: Any, engagement: Engagement, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["isps"].queryset = engagement.isps.order_by("username")


WeekFormSet = forms.modelformset_factory(Activity, form=WeekRowForm, extra=0, max_num=14, absolute_max=14)


class ActivityFilterForm(forms.Form):
    """The activity list's filters: an ISP, a support mode, a month (``2025-06``); each optional."""

    isp = forms.TypedChoiceField(coerce=int, required=False, empty_value=None, label="ISP")
    mode = forms.ChoiceField(required=False, label="Support mode")
    month = forms.ChoiceField(required=False, label="Month")

    def __init__(self, *args: Any, isps: list[Any], months: list[datetime.date], **kwargs: Any) -> None:
        """`isps`: the engagement's ISPs; `months`: the first days of the months it has activities in."""
        super().__init__(*args, **kwargs)
        self.fields["isp"].choices = [("", "Every ISP")] + [
            (str(user.pk), user.get_username()) for user in isps
        ]
        self.fields["mode"].choices = [("", "Every mode"), *SupportMode.choices]
        self.fields["month"].choices = [("", "Every month")] + [
            (f"{month:%Y-%m}", f"{month:%B %Y}") for month in months
        ]
