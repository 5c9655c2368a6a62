"""The dashboards' pages and their charts.

Every view goes through `member_view("view_dashboards")` and looks up what it shows only within the member's
scope (`moclab.web.dashboards.queries`): an engagement, a site, a team or an ISP outside it is a 404, so a
page never confirms that it exists. A page and each of its charts are computed by the same function from
the same filters (the chart's address repeats the page's query), so a chart draws exactly the numbers of the
table beside it; the charts are SVG images drawn on the server (`moclab.web.dashboards.charts`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlencode

import altair as alt
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from moclab.web.dashboards import charts
from moclab.web.dashboards.cells import STAGES, Protected, protected
from moclab.web.dashboards.content import (
    Section,
    log_of,
    mode_sections,
    pathway_sections,
    periods_of,
    received_section,
    suppressed_text,
    term_section,
)
from moclab.web.dashboards.content import by_group_section as groups_section
from moclab.web.dashboards.queries import (
    OrganisationData,
    also_forget,
    engagements_in_scope,
    isps_in_scope,
    sites_in_scope,
    teams_of,
    whole_group,
)
from moclab.web.practice.access import member_view
from moclab.web.practice.models import Engagement, Membership, Role, Team
from moclab.web.surveys.models import Survey

T = TypeVar("T")


@dataclass
class Page:
    """A dashboard as computed for one request: its sections (charts with tables) and the rest of the
    template's context; `query` is the filters chosen, repeated in the charts' addresses."""

    sections: list[Section]
    context: dict[str, Any]
    query: dict[str, str] = field(default_factory=dict)

    def section(self, name: str) -> Section:
        for section in self.sections:
            if section.name == name:
                return section
        raise Http404(f"this dashboard has no chart {name!r}")


# -- pages ---------------------------------------------------------------------------------------------------


@member_view("view_dashboards")
def index(request: HttpRequest) -> HttpResponse:
    """The dashboards a member can open, and the engagements whose dashboards they may see."""
    membership = request.membership  # type: ignore[attr-defined]
    engagements = engagements_in_scope(membership).select_related("site").order_by("title")
    isps = isps_in_scope(membership)
    return render(
        request,
        "dashboards/index.html",
        {"engagements": engagements, "isps": isps, "is_isp": membership.role == Role.ISP},
    )


@member_view("view_dashboards")
def support(request: HttpRequest) -> HttpResponse:
    page = _page(request, _support_page)
    return _render(request, "dashboards/support.html", page, "dashboards:support_chart", {})


@member_view("view_dashboards")
def support_chart(request: HttpRequest, name: str) -> HttpResponse:
    return _chart(request, _page(request, _support_page), name)


@member_view("view_dashboards")
def engagement(request: HttpRequest, pk: int) -> HttpResponse:
    page = _page(request, _engagement_page, pk)
    return _render(request, "dashboards/engagement.html", page, "dashboards:engagement_chart", {"pk": pk})


@member_view("view_dashboards")
def engagement_chart(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    return _chart(request, _page(request, _engagement_page, pk), name)


@member_view("view_dashboards")
def pathway(request: HttpRequest) -> HttpResponse:
    page = _page(request, _pathway_page)
    return _render(request, "dashboards/pathway.html", page, "dashboards:pathway_chart", {})


@member_view("view_dashboards")
def pathway_chart(request: HttpRequest, name: str) -> HttpResponse:
    return _chart(request, _page(request, _pathway_page), name)


@member_view("view_dashboards")
def practice_index(request: HttpRequest) -> HttpResponse:
    """An ISP's own practice view; for administrators and researchers the ISPs to choose from; a site lead
    has none (they see their site's aggregates)."""
    membership = request.membership  # type: ignore[attr-defined]
    if membership.role == Role.ISP:
        page = _page(request, _practice_page, membership.user_id)
        kwargs = {"user_id": membership.user_id}
        return _render(request, "dashboards/practice.html", page, "dashboards:practice_chart", kwargs)
    return render(request, "dashboards/practice_index.html", {"isps": isps_in_scope(membership)})


@member_view("view_dashboards")
def practice(request: HttpRequest, user_id: int) -> HttpResponse:
    page = _page(request, _practice_page, user_id)
    return _render(
        request, "dashboards/practice.html", page, "dashboards:practice_chart", {"user_id": user_id}
    )


@member_view("view_dashboards")
def practice_chart(request: HttpRequest, user_id: int, name: str) -> HttpResponse:
    return _chart(request, _page(request, _practice_page, user_id), name)


# -- what each page shows ---------------------------------------------------------------------------------

#: Pages computed, per (page, its arguments, the member's scope, the filters, the data state); a chart is a
#: request of its own that needs its page's numbers, so it finds them here instead of computing the page
#: again (about 250 ms for a large portfolio's support page).
_PAGES: OrderedDict[tuple[Any, ...], Page] = OrderedDict()
_PAGES_LOCK = threading.Lock()
_PAGES_KEPT = 64


def _forget_pages() -> None:
    with _PAGES_LOCK:
        _PAGES.clear()


also_forget(_forget_pages)


def _protected(request: HttpRequest) -> tuple[OrganisationData, Protected]:
    """The member's organisation's data and protected cells, asked of `protected` once per request (each ask
    reads the data state: five aggregate queries)."""
    found = getattr(request, "dashboard_state", None)
    if found is None:
        found = protected(request.membership.organisation_id)  # type: ignore[attr-defined]
        request.dashboard_state = found  # type: ignore[attr-defined]
    return found


def _page(request: HttpRequest, build: Callable[..., Page], *args: Any) -> Page:
    """`build(request, *args)`, once per data state, member scope and filters (the chart size aside)."""
    membership = request.membership  # type: ignore[attr-defined]
    data, cells = _protected(request)
    filters = tuple(sorted((name, value) for name, value in request.GET.items() if name != "size"))
    scope = (membership.pk, membership.role, membership.site_id)
    key = (build.__name__, args, scope, filters, data.state, cells.k)
    with _PAGES_LOCK:
        found = _PAGES.get(key)
        if found is not None:
            _PAGES.move_to_end(key)
            return found
    page = build(request, *args)
    with _PAGES_LOCK:
        _PAGES[key] = page
        while len(_PAGES) > _PAGES_KEPT:
            _PAGES.popitem(last=False)
    return page


def _support_page(request: HttpRequest) -> Page:
    """Support across the member's portfolio, or one of its sites: dose per component and competency per
    month, the modes, the cumulative minutes, and who received how much."""
    membership: Membership = request.membership  # type: ignore[attr-defined]
    data, cells = _protected(request)
    sites = sites_in_scope(membership)
    site = _choose(request, "site", {str(site.pk): site for site in sites})
    engagements = engagements_in_scope(membership)
    if site is not None:
        engagements = engagements.filter(site=site)
    log = log_of(data, engagements.values_list("pk", flat=True))
    group, label, parts = _groups(membership, site, sites)
    sections = [
        term_section(log, "core_components", "components"),
        term_section(log, "competencies", "competencies"),
        *mode_sections(log),
        received_section(cells, [(label, group), *parts]),
    ]
    filters = [_filter("site", "Site", [(str(s.pk), s.name) for s in sites], request, "All your sites")]
    return Page(
        sections,
        {"scope": site.name if site else label, "filters": filters if len(sites) > 1 else [], "k": cells.k},
        _query(request, ["site"]),
    )


def _engagement_page(request: HttpRequest, pk: int) -> Page:
    """One engagement: its dose, modes and recipients (the site's, or those present for a system), and its
    recipients' pathway in a survey."""
    membership: Membership = request.membership  # type: ignore[attr-defined]
    found = get_object_or_404(engagements_in_scope(membership).select_related("site"), pk=pk)
    data, cells = _protected(request)
    log = log_of(data, [found.pk])
    group = ("engagement", found.pk)
    teams = [(team.name, ("team", team.pk)) for team in teams_of(found.site)] if found.site_id else []
    sections = [
        term_section(log, "core_components", "components"),
        term_section(log, "competencies", "competencies"),
        *mode_sections(log),
        received_section(cells, [("All its recipients", group), *teams]),
    ]
    survey, title, filters = _survey_filter(request, membership, data)
    if survey is not None:
        sections += pathway_sections(data, cells, survey, group)
    return Page(
        sections,
        {"engagement": found, "survey": title, "filters": filters, "k": cells.k},
        _query(request, ["survey"]),
    )


def _pathway_page(request: HttpRequest) -> Page:
    """The recipients' pathway by wave for the portfolio, a site or a team, and by site (or team) for one
    wave, with the response rates."""
    membership: Membership = request.membership  # type: ignore[attr-defined]
    data, cells = _protected(request)
    survey, title, filters = _survey_filter(request, membership, data)
    sites = sites_in_scope(membership)
    site = _choose(request, "site", {str(site.pk): site for site in sites})
    if membership.role == Role.SITE_LEAD:
        site = sites[0]
    in_scope = Team.objects.filter(site__in=sites).select_related("site").order_by("name")
    team = _choose(request, "team", {str(team.pk): team for team in in_scope})
    if team is not None and site is None:
        site = team.site
    elif team is not None and team.site_id != site.pk:
        team = None  # the site was changed: its own teams are offered again
    teams = [found for found in in_scope if site is not None and found.site_id == site.pk]
    if len(sites) > 1:
        filters.append(
            _filter("site", "Site", [(str(s.pk), s.name) for s in sites], request, "All your sites")
        )
    if teams:
        filters.append(_filter("team", "Team", [(str(t.pk), t.name) for t in teams], request, "All teams"))
    context: dict[str, Any] = {"filters": filters, "k": cells.k, "survey": title}
    if survey is None:
        return Page([], context, {})
    periods = periods_of(data, survey)
    values = {_period_value(period): (period, label) for period, label in periods}
    chosen = _choose(request, "wave", values) or (periods[-1] if periods else None)
    if chosen is not None:  # by default the latest wave
        options = [(v, label) for v, (_, label) in values.items()]
        filters.append(_filter("wave", "Wave", options, request, None, current=_period_value(chosen[0])))
    if team is not None:
        group, label, parts = ("team", team.pk), f"{site.name} / {team.name}", []
    else:
        group, label, parts = _groups(membership, site, sites)
    sections = pathway_sections(data, cells, survey, group)
    if parts and chosen is not None:
        what = "team" if parts[0][1][0] == "team" else "site"
        sections.append(groups_section(cells, survey, chosen[0], chosen[1], parts, what))
    context["scope"] = label
    return Page(sections, context, _query(request, ["survey", "site", "team", "wave"]))


def _practice_page(request: HttpRequest, user_id: int) -> Page:
    """An ISP's practice: their engagements, what they logged, and what recipients said after their
    sessions."""
    membership: Membership = request.membership  # type: ignore[attr-defined]
    isp = next((user for user in isps_in_scope(membership) if user.pk == user_id), None)
    if isp is None:
        raise Http404("no such ISP among your dashboards")
    data, cells = _protected(request)
    mine = sorted(data.isp_engagements.get(isp.pk, frozenset()))
    engagements = list(Engagement.objects.filter(pk__in=mine).select_related("site").order_by("title"))
    log = log_of(data, mine, isp=isp.pk)
    logged = log.groupby("engagement")[["minutes", "activities"]].sum()
    rows = [
        {
            "engagement": found,
            "minutes": int(logged["minutes"].get(found.pk, 0)),
            "activities": int(logged["activities"].get(found.pk, 0)),
        }
        for found in engagements
    ]
    sections = [*mode_sections(log), term_section(log, "competencies", "competencies")]
    survey, title, filters = _survey_filter(request, membership, data)
    if survey is not None:
        sections += pathway_sections(data, cells, survey, ("after", isp.pk), invited=False)
    return Page(
        sections,
        {
            "isp": isp,
            "own": isp.pk == membership.user_id,
            "engagements": rows,
            "filters": filters,
            "survey": title,
            "k": cells.k,
        },
        _query(request, ["survey"]),
    )


# -- helpers -------------------------------------------------------------------------------------------------


def _groups(
    membership: Membership, site: Any, sites: list[Any]
) -> tuple[tuple[Any, ...], str, list[tuple[str, tuple[Any, ...]]]]:
    """The group a page shows (a chosen site, else the member's whole scope), its label, and its parts (the
    site's teams, or the sites)."""
    if site is None and membership.role != Role.SITE_LEAD:
        group = whole_group(membership)
        label = (
            "Your engagements' recipients" if membership.role == Role.ISP else membership.organisation.name
        )
        return group, label, [(s.name, ("site", s.pk)) for s in sites]
    site = site or sites[0]
    return ("site", site.pk), site.name, [(team.name, ("team", team.pk)) for team in teams_of(site)]


def _survey_filter(
    request: HttpRequest, membership: Membership, data: OrganisationData
) -> tuple[int | None, str, list[dict[str, Any]]]:
    """The survey chosen (``?survey=``, else the first with waves) among those asked in the member's scope,
    its title, and its filter."""
    asked = Survey.objects.filter(organisation=membership.organisation_id)
    if membership.role in (Role.SITE_LEAD, Role.ISP):
        sites = [site.pk for site in sites_in_scope(membership)]
        asked = asked.filter(site__isnull=True) | asked.filter(site__in=sites)
    titles = dict(asked.order_by("title").values_list("pk", "title"))
    chosen = _choose(request, "survey", {str(pk): pk for pk in titles})
    if chosen is None:
        chosen = next((pk for pk in titles if data.periods.get(pk)), None)
    options = [(str(pk), title) for pk, title in titles.items()]
    filters = (
        [_filter("survey", "Survey", options, request, None, current=str(chosen))] if len(titles) > 1 else []
    )
    return chosen, titles.get(chosen, ""), filters


def _choose(request: HttpRequest, name: str, choices: dict[str, T]) -> T | None:
    """The filter `name` of the query among `choices` (None when not given); a value outside them is a 404:
    the member's scope holds no such site, team, survey or wave."""
    value = request.GET.get(name, "")
    if not value:
        return None
    if value not in choices:
        raise Http404(f"no {name} {value!r} among your dashboards")
    return choices[value]


def _filter(
    name: str,
    label: str,
    options: list[tuple[str, str]],
    request: HttpRequest,
    everything: str | None,
    current: str | None = None,
) -> dict[str, Any]:
    current = current if current is not None else request.GET.get(name, "")
    listed = ([("", everything)] if everything else []) + options
    return {
        "name": name,
        "label": label,
        "options": [(value, text, value == current) for value, text in listed],
    }


def _period_value(period: tuple[Any, ...]) -> str:
    """A period in a query: ``3`` (wave 3), ``2026-05`` (a month of an after-activity survey)."""
    return str(period[1])


def _query(request: HttpRequest, names: list[str]) -> dict[str, str]:
    return {name: request.GET[name] for name in names if request.GET.get(name)}


def _render(
    request: HttpRequest, template: str, page: Page, chart_view: str, kwargs: dict[str, Any]
) -> HttpResponse:
    for section in page.sections:
        address = reverse(chart_view, kwargs={**kwargs, "name": section.name})
        section.narrow = f"{address}?{urlencode({**page.query, 'size': 'narrow'})}"
        section.wide = f"{address}?{urlencode({**page.query, 'size': 'wide'})}"
    return render(
        request,
        template,
        {
            **page.context,
            "sections": page.sections,
            "suppressed_text": suppressed_text(page.context.get("k", 0)),
        },
    )


#: How each section is drawn, by its name.
DRAWINGS: dict[str, Callable[[Section, str], alt.TopLevelMixin]] = {
    "components": lambda section, size: charts.heatmap(section.frame, size),
    "competencies": lambda section, size: charts.heatmap(section.frame, size),
    "modes": lambda section, size: charts.modes(section.frame, size),
    "cumulative": lambda section, size: charts.cumulative(section.frame, size),
    "received": lambda section, size: charts.received(section.frame, size),
    "pathway": lambda section, size: charts.pathway(section.frame, size, [label for _, label in STAGES]),
    "rates": lambda section, size: charts.rates(section.frame, size),
    "groups": lambda section, size: charts.by_group(section.frame, size, [label for _, label in STAGES]),
}


def chart_of(page: Page, name: str, size: str) -> alt.TopLevelMixin:
    """The chart of a page's section at a size (``narrow`` or ``wide``)."""
    if size not in charts.WIDTHS:
        raise Http404(f"no chart size {size!r}: narrow or wide")
    section = page.section(name)
    if section.empty:
        return charts.empty(section.empty, size)
    return DRAWINGS[name](section, size)


def _chart(request: HttpRequest, page: Page, name: str) -> HttpResponse:
    drawn = charts.svg(chart_of(page, name, request.GET.get("size", "wide")))
    response = HttpResponse(drawn, content_type="image/svg+xml")
    response["Cache-Control"] = "private, max-age=300"
    return response
