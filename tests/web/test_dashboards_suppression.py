"""The attack on small-cell suppression: can a member work out the answers (or minutes received) of fewer
than k recipients from the numbers the dashboards show?

A small organisation has sites and teams of 1 to 6 recipients, two survey waves that different recipients
answer, and activities that reach some recipients by name and others with their team. Every role requests
every filter combination of every dashboard (portfolio and site, the pathway by site, team and wave, each
engagement, each ISP's practice), and the test reads every number of every table. The attacker knows who
is in which group (who is in a team, who answered which wave, who was at which session): for each number
shown, the test works out from its own record of the organisation (not from the dashboards' code) which
units it aggregates, checks that the number is right, and writes it as one linear equation: the sum of the
units' values. Then, with numpy's least squares, it tests every group of 1 to k - 1 units: the group's
sum can be derived exactly when its indicator vector is a combination of the equations' rows (zero
residual). None may be, for any role, nor for all roles pooling what they saw.

Without complementary suppression (every cell of k or more shown, the small ones hidden), the same attacker
does recover individual answers by difference, exactly: the test shows that too.
"""

from __future__ import annotations

import datetime
import itertools
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import numpy as np
import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from moclab.web.practice.models import (
    Activity,
    Engagement,
    Membership,
    Organisation,
    Recipient,
    Role,
    Site,
    SupportMode,
    Team,
)

UTC = datetime.UTC
#: Sites and teams and how many recipients each holds (None: recipients without a team).
LAYOUT = {"S1": {"T1": 6, "T2": 1}, "S2": {"T3": 4, "T4": 2}, "S3": {"T5": 5, None: 1}, "S4": {"T6": 3}}
#: Bands of minutes received, as the dashboards define them (lowest, highest).
BANDS = [(0, 0), (1, 59), (60, 179), (180, 599), (600, float("inf"))]
STAGE_OF_ITEM = {"trust": "affective-response", "knowledge": "knowledge-and-application"}
AFTER_DAYS = 30


@dataclass
class Truth:
    """The organisation as the test built it: everything an attacker is assumed to know, and the values."""

    site_of: dict[int, int] = field(default_factory=dict)
    team_of: dict[int, int | None] = field(default_factory=dict)
    engagement_recipients: dict[int, set[int]] = field(default_factory=dict)
    isp_engagements: dict[int, set[int]] = field(default_factory=dict)
    dose: dict[int, int] = field(default_factory=dict)
    sessions: list[tuple[int, int, datetime.date]] = field(default_factory=list)  # (isp, recipient, day)
    # invitation -> (recipient, survey, wave number, answered day or None, values)
    invitations: dict[int, tuple[int, int, int, datetime.date | None, dict[str, int]]] = field(
        default_factory=dict
    )

    def recipients_of(self, group: list[Any]) -> set[int]:
        kind = group[0]
        if kind == "org":
            return set(self.site_of)
        if kind == "site":
            return {r for r, s in self.site_of.items() if s == group[1]}
        if kind == "team":
            return {r for r, t in self.team_of.items() if t == group[1]}
        if kind == "engagement":
            return set(self.engagement_recipients[group[1]])
        if kind == "isp":
            return set().union(*(self.engagement_recipients[e] for e in self.isp_engagements[group[1]]))
        raise AssertionError(f"unknown group {group}")

    def after(self, isp: int) -> set[int]:
        """Answered invitations within 30 days after a session of the ISP with the recipient."""
        return {
            invitation
            for invitation, (recipient, _, _, day, _) in self.invitations.items()
            if day is not None
            and any(
                who == isp and person == recipient and 0 <= (day - when).days <= AFTER_DAYS
                for who, person, when in self.sessions
            )
        }

    def invitations_of(self, group: list[Any], survey: int, period: list[Any]) -> set[int]:
        in_period = {
            invitation
            for invitation, (_, asked, wave, _, _) in self.invitations.items()
            if asked == survey and wave == period[1]
        }
        if group[0] == "after":
            return in_period & self.after(group[1])
        people = self.recipients_of(group)
        return {invitation for invitation in in_period if self.invitations[invitation][0] in people}

    def cell(self, key: list[Any]) -> tuple[tuple[Any, ...], frozenset[Any], float]:
        """(unknown, members, sum) of a cell key as shown in a page's ``data-cell``, worked out here from
        what the test built. A count's members are the people it counts (each counts 1: the unknown is who
        they are); a sum's are those whose values it adds."""
        kind = key[0]
        if kind in ("invited", "answered"):
            _, group, survey, period = key
            found = self.invitations_of(group, survey, period)
            if kind == "answered":
                found = {i for i in found if self.invitations[i][3] is not None}
            return ("invitations", survey), frozenset(found), float(len(found))
        if kind == "stage":
            _, stage, group, survey, period = key
            found = {
                i for i in self.invitations_of(group, survey, period) if self.invitations[i][3] is not None
            }
            scores = {i: self.stage_score(i, stage) for i in found}
            members = frozenset(i for i, score in scores.items() if score is not None)
            return ("stage", stage, survey), members, float(sum(scores[i] for i in members))
        if kind == "dose":
            people = self.recipients_of(key[1])
            return ("dose",), frozenset(people), float(sum(self.dose.get(r, 0) for r in people))
        if kind == "recipients":
            people = self.recipients_of(key[1])
            return ("recipients",), frozenset(people), float(len(people))
        if kind == "band":
            low, high = BANDS[key[1]]
            people = {r for r in self.recipients_of(key[2]) if low <= self.dose.get(r, 0) <= high}
            return ("recipients",), frozenset(people), float(len(people))
        raise AssertionError(f"unknown cell {key}")

    def value(self, unknown: tuple[Any, ...], unit: Any) -> float:
        """One unit's value: 1 for a person counted, a response's stage score, a recipient's minutes."""
        if unknown[0] == "stage":
            return float(self.stage_score(unit, unknown[1]) or 0.0)
        if unknown[0] == "dose":
            return float(self.dose.get(unit, 0))
        return 1.0

    def stage_score(self, invitation: int, stage: str) -> float | None:
        """The stage's score: its one item on the 0-100 scale ((v - 1) / 4 * 100 for a 1-5 rating)."""
        values = self.invitations[invitation][4]
        items = [item for item, of in STAGE_OF_ITEM.items() if of == stage and item in values]
        if not items:
            return None
        return sum((values[item] - 1) / 4 * 100 for item in items) / len(items)


@dataclass
class Attack:
    """The organisation, its members' clients, and the truth the attacker is checked against."""

    truth: Truth
    clients: dict[str, Client]
    pages: dict[str, list[str]]


def build(rng: np.random.Generator) -> Attack:
    from moclab.web.surveys.models import Invitation, Survey, SurveyResponse, SurveyWave

    User = get_user_model()
    truth = Truth()
    organisation = Organisation.objects.create(name="Attack org")
    sites: dict[str, Site] = {}
    teams: dict[str, Team] = {}
    people: dict[str, list[Recipient]] = defaultdict(list)
    number = 0
    for site_name, layout in LAYOUT.items():
        sites[site_name] = Site.objects.create(organisation=organisation, name=site_name)
        for team_name, size in layout.items():
            team = None
            if team_name is not None:
                team = teams[team_name] = Team.objects.create(site=sites[site_name], name=team_name)
            for _ in range(size):
                number += 1
                recipient = Recipient.objects.create(
                    organisation=organisation, pseudonym=f"X{number:03d}", site=sites[site_name], team=team
                )
                people[team_name or f"{site_name}-none"].append(recipient)
                truth.site_of[recipient.pk] = sites[site_name].pk
                truth.team_of[recipient.pk] = team.pk if team else None
    users = {}
    for username, role, site in [
        ("administrator", Role.ADMINISTRATOR, None),
        ("researcher", Role.RESEARCHER, None),
        ("isp-a", Role.ISP, None),
        ("isp-b", Role.ISP, None),
        ("lead-1", Role.SITE_LEAD, sites["S1"]),
        ("lead-2", Role.SITE_LEAD, sites["S2"]),
        ("lead-4", Role.SITE_LEAD, sites["S4"]),
    ]:
        users[username] = User.objects.create_user(username=username, password="x")
        Membership.objects.create(user=users[username], organisation=organisation, role=role, site=site)
    start = datetime.date(2025, 1, 1)

    def engagement(title: str, isp: str, site: Site | None) -> Engagement:
        made = Engagement.objects.create(
            organisation=organisation, title=title, site=site, system="" if site else "a network", start=start
        )
        made.isps.set([users[isp]])
        truth.isp_engagements.setdefault(users[isp].pk, set()).add(made.pk)
        if site is not None:
            truth.engagement_recipients[made.pk] = {r for r, s in truth.site_of.items() if s == site.pk}
        else:
            truth.engagement_recipients[made.pk] = set()
        return made

    e1, e2 = engagement("E1", "isp-a", sites["S1"]), engagement("E2", "isp-a", sites["S2"])
    e3, e4 = engagement("E3", "isp-b", sites["S3"]), engagement("E4", "isp-b", None)

    def log(
        on: Engagement, isp: str, day: datetime.date, minutes: int, named: list[Recipient], team: str | None
    ):
        activity = Activity.objects.create(
            engagement=on, date=day, minutes=minutes, support_mode=SupportMode.PUSH
        )
        activity.isps.set([users[isp]])
        activity.recipients.set(named)
        present = {r.pk for r in named}
        if team is not None:
            activity.teams.set([teams[team]])
            present |= {r.pk for r in people[team]}
        for recipient in present:
            truth.dose[recipient] = truth.dose.get(recipient, 0) + minutes
            truth.sessions.append((users[isp].pk, recipient, day))
        if on.site_id is None:
            truth.engagement_recipients[on.pk] |= present

    may, july = datetime.date(2025, 5, 20), datetime.date(2025, 7, 10)
    log(e1, "isp-a", may, 60, [], "T1")
    log(e1, "isp-a", july, 30, [*people["T1"][:2], *people["T2"]], None)
    log(e2, "isp-a", may, 120, [], "T3")
    log(e2, "isp-a", july, 45, people["T4"], None)
    log(e3, "isp-b", may, 200, [], "T5")
    log(e3, "isp-b", july, 20, people["S3-none"], None)
    log(e4, "isp-b", may, 90, [*people["T1"][:2], *people["T6"]], None)

    survey = Survey.objects.create(
        organisation=organisation,
        title="Attack pulse",
        pathway_items=["recipient-pathway:trust", "recipient-pathway:knowledge"],
        every_weeks=6,
        start_date=datetime.date(2025, 6, 2),
    )
    everyone = [r for group in people.values() for r in group]
    for wave_number, opens_day in ((1, datetime.date(2025, 6, 2)), (2, datetime.date(2025, 7, 14))):
        opens = datetime.datetime.combine(opens_day, datetime.time(8), tzinfo=UTC)
        wave = SurveyWave.objects.create(
            survey=survey, number=wave_number, opens=opens, closes=opens + datetime.timedelta(days=14)
        )
        for recipient in everyone:
            answers = rng.random() < 0.8
            done = opens + datetime.timedelta(days=1)
            invitation = Invitation.objects.create(
                wave=wave, recipient=recipient, due=opens, answered=done if answers else None
            )
            values: dict[str, int] = {}
            if answers:
                values = {"trust": int(rng.integers(1, 6)), "knowledge": int(rng.integers(1, 6))}
                SurveyResponse.objects.create(
                    invitation=invitation, consent_version=1, consented=opens, values=values, submitted=done
                )
            truth.invitations[invitation.pk] = (
                recipient.pk,
                survey.pk,
                wave_number,
                done.date() if answers else None,
                values,
            )
    clients = {}
    for username, user in users.items():
        clients[username] = Client()
        clients[username].force_login(user)
    pages = {username: _addresses(user, survey.pk, sites, teams, users) for username, user in users.items()}
    return Attack(truth, clients, pages)


def _addresses(user: Any, survey: int, sites: dict[str, Site], teams: dict[str, Team], users: dict[str, Any]):
    """Every filter combination of every dashboard a member can open (their scope's sites, teams,
    engagements and ISPs; the rest is a 404, walked in tests/web/test_dashboards_permissions.py)."""
    from moclab.web.dashboards.queries import engagements_in_scope, isps_in_scope, sites_in_scope

    membership = Membership.objects.get(user=user)
    scope_sites = sites_in_scope(membership)
    scope_teams = [team for team in teams.values() if team.site_id in {s.pk for s in scope_sites}]
    found = [reverse("dashboards:index"), reverse("dashboards:practice_index")]
    for site in ["", *[s.pk for s in scope_sites]]:
        found.append(f"{reverse('dashboards:support')}?site={site}")
        for team in ["", *[t.pk for t in scope_teams]]:
            for wave in ["", "1", "2"]:
                found.append(
                    f"{reverse('dashboards:pathway')}?survey={survey}&site={site}&team={team}&wave={wave}"
                )
    for engagement in engagements_in_scope(membership):
        found.append(reverse("dashboards:engagement", args=[engagement.pk]))
    for isp in isps_in_scope(membership):
        found.append(reverse("dashboards:practice", args=[isp.pk]))
    return found


class Numbers(HTMLParser):
    """Every number in a table of aggregates of recipients: (cell key, stat, text, suppressed, base)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[list[Any], str, str, bool, list[Any] | None]] = []
        self.unlabelled: list[str] = []
        self._in_recipients = False
        self._cell: dict[str, str | None] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        given = dict(attrs)
        if tag == "table":
            self._in_recipients = given.get("data-recipients") == "1"
        elif tag == "td" and self._in_recipients:
            self._cell, self._text = given, []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None:
            text = " ".join("".join(self._text).split())
            if self._cell.get("data-cell"):
                base = self._cell.get("data-base")
                self.found.append(
                    (
                        json.loads(self._cell["data-cell"] or ""),
                        self._cell.get("data-stat") or "",
                        text,
                        "suppressed" in (self._cell.get("class") or ""),
                        json.loads(base) if base else None,
                    )
                )
            elif text not in ("–", ""):
                self.unlabelled.append(text)
            self._cell = None
        elif tag == "table":
            self._in_recipients = False

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._text.append(data)


def read_pages(
    client: Client, addresses: Iterable[str], k: int
) -> tuple[dict[str, list[Any]], dict[str, bool]]:
    """Every labelled number of every page: key (as JSON text) -> key, and whether it was ever shown."""
    keys: dict[str, list[Any]] = {}
    shown: dict[str, bool] = {}
    for address in addresses:
        response = client.get(address)
        assert response.status_code == 200, address
        parser = Numbers()
        parser.feed(response.content.decode())
        assert parser.unlabelled == [], (address, parser.unlabelled)  # every number says what it aggregates
        on_page = {json.dumps(key): suppressed for key, _, _, suppressed, _ in parser.found}
        for key, stat, text, suppressed, base in parser.found:
            name = json.dumps(key)
            keys[name] = key
            if suppressed:
                assert text == f"suppressed (fewer than {k})", (address, key, text)
            if stat == "rate" and not suppressed:
                # a rate is shown only beside both of its counts, shown
                assert on_page.get(name) is False and on_page.get(json.dumps(base)) is False, (address, key)
            if not suppressed and stat in ("count", "mean"):
                shown[name] = True
            else:
                shown.setdefault(name, False)
            if not suppressed:
                shown_value(key, stat, text, base)
    return keys, shown


#: Set per test: the truth the shown numbers are checked against.
_TRUTH: list[Truth] = []


def shown_value(key: list[Any], stat: str, text: str, base: list[Any] | None) -> None:
    """A number shown is the test's own computation of that cell (the attacker reads true numbers)."""
    truth = _TRUTH[0]
    _, members, total = truth.cell(key)
    if stat == "count":
        assert text == f"{total:.0f}" == str(len(members)), (key, text)
    elif stat == "mean":
        assert text == f"{total / len(members):.0f}", (key, text, total, len(members))
    elif stat == "rate":
        assert base is not None
        asked = truth.cell(base)[2]
        assert text == f"{100 * total / asked:.0f}%", (key, text)


def equations(
    keys: Iterable[list[Any]], truth: Truth
) -> dict[tuple[Any, ...], list[tuple[frozenset, float]]]:
    """The attacker's equations, by unknown: one (members, sum) per distinct member set."""
    found: dict[tuple[Any, ...], dict[frozenset, float]] = defaultdict(dict)
    for key in keys:
        unknown, members, total = truth.cell(key)
        if members:
            found[unknown][members] = total
    return {unknown: list(rows.items()) for unknown, rows in found.items()}


def derivable_groups(rows: list[tuple[frozenset, float]], k: int) -> list[tuple[tuple[Any, ...], float]]:
    """Every group of 1 to k - 1 units whose sum follows exactly from the rows, with that sum: least squares
    on A'y = 1_G for every such G (A: rows by units); zero residual means derivable, and y'sums is then the
    group's sum. The least-squares solution y = pinv(A') 1_G (numpy's pseudo-inverse, with the cutoff of
    numpy's lstsq) and its residual 1_G - A'y are linear in 1_G: they are worked out once per unit and
    added up over each group's units."""
    units = sorted(set().union(*(members for members, _ in rows)), key=repr)
    index = {unit: position for position, unit in enumerate(units)}
    matrix = np.zeros((len(rows), len(units)))
    for row, (members, _) in enumerate(rows):
        matrix[row, [index[m] for m in members]] = 1.0
    sums = np.array([total for _, total in rows])
    solve = np.linalg.pinv(matrix.T, rtol=np.finfo(float).eps * max(matrix.shape))
    residual_of_unit = np.eye(len(units)) - matrix.T @ solve  # column i: the residual of unit i alone
    sum_of_unit = sums @ solve
    found = []
    for size in range(1, k):
        for chunk in _chunks(itertools.combinations(range(len(units)), size), 20_000):
            groups = np.array(chunk)
            residual = np.abs(residual_of_unit[:, groups].sum(axis=2)).max(axis=0)
            group_sums = sum_of_unit[groups].sum(axis=1)
            for column in np.flatnonzero(residual < 1e-8):
                found.append((tuple(units[i] for i in chunk[column]), float(group_sums[column])))
    return found


def _chunks(items: Iterable[Any], size: int) -> Iterable[list[Any]]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


@pytest.fixture
def attack(db: None) -> Attack:
    from moclab.web.dashboards import queries

    queries.forget()
    built = build(np.random.default_rng(20261207))
    _TRUTH[:] = [built.truth]
    return built


def true_sum(truth: Truth, unknown: tuple[Any, ...], group: tuple[Any, ...]) -> float:
    """A group's true sum of an unknown, from the test's record."""
    return sum(truth.value(unknown, unit) for unit in group)


@pytest.mark.parametrize("k", [5, 3])
def test_no_role_can_work_out_a_small_group_through_any_filter(attack: Attack, settings: Any, k: int):
    settings.MOCLAB_SUPPRESSION_K = k
    pooled: set[str] = set()
    every_key: dict[str, list[Any]] = {}
    for username, client in attack.clients.items():
        keys, shown = read_pages(client, attack.pages[username], k)
        assert keys, username  # every member sees some aggregate of recipients
        visible = [keys[name] for name, was_shown in shown.items() if was_shown]
        for space, rows in equations(visible, attack.truth).items():
            assert derivable_groups(rows, k) == [], (username, space)
        pooled |= {name for name, was_shown in shown.items() if was_shown}
        every_key.update(keys)
    # all members pooling what they saw learn no more
    for space, rows in equations([every_key[name] for name in pooled], attack.truth).items():
        assert derivable_groups(rows, k) == [], ("pooled", space)
    # the pages showed something of every kind, and hid something
    kinds = {every_key[name][0] for name in pooled}
    assert kinds == {"invited", "answered", "stage", "dose", "recipients", "band"}
    assert set(every_key) - pooled


def test_without_complementary_suppression_the_attacker_recovers_answers(attack: Attack):
    """Show every cell the dashboards can show that has k or more members (primary suppression only): the
    same least squares finds single answers and works them out exactly, by difference."""
    k = 5
    keys, _ = read_pages(attack.clients["administrator"], attack.pages["administrator"], k)
    large = [key for key in keys.values() if len(attack.truth.cell(key)[1]) >= k]
    recovered = []
    for space, rows in equations(large, attack.truth).items():
        for group, value in derivable_groups(rows, k):
            assert value == pytest.approx(true_sum(attack.truth, space, group), abs=1e-6)
            recovered.append((space, group, value))
    singles = [(space, group) for space, group, _ in recovered if len(group) == 1 and space[0] == "stage"]
    assert singles, "the attacker should recover one recipient's answer from unprotected cells"
