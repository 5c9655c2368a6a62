"""Generate the data of moclab's example study (synthetic: no real people, sites or engagements).

    .venv/bin/python scripts/make_example_study.py            # rewrite src/moclab/study/example/data/*.csv
    .venv/bin/python scripts/make_example_study.py --out DIR  # write the same files under DIR instead

The design (sites, arms, waves, measures and their ranges) is read from the example's hand-written
`moclab.yaml`; this script adds the data with a known causal structure, loosely following the recipients'
experience pathway of Metz et al. (2024, Front Health Serv 4:1323807):

    support minutes -> positive emotion, psychological safety, trust, credibility (affective response)
                    -> acceptability, appropriateness, feasibility
                    -> knowledge -> application -> sustained capacity -> site outcomes

Twelve sites with two or three teams and 10-20 recipients each are randomized to intensive ISP support or
usual support. The support a recipient received is read from the generated activities log (their team's
meetings, site meetings and their own coaching), so dose-response can be studied as well as the arm.
Effects run through the pathway with lags (a perception at a wave depends on the affective response at
that wave and the one before), plus site, team and person random effects and noise; the effect of support
is a little stronger where the site's conditions are more supportive (the model's precondition).
Engagement length (high vs limited, per team) has no effect, as the paper found. Values are clipped to
their scale and rounded to 2 decimals; about 3% of values are left empty and some recipients miss a wave.

Acceptability, appropriateness and feasibility are collected as the items of AIM, IAM and FIM (Weiner et al.
2017; 1-5) and psychological safety as the seven items of Edmondson's (1999) team psychological safety scale
(1-7; items 1, 3 and 5 stored as answered, i.e. reversed), so the example exercises scoring, prorating,
reliability and aggregation: each item is the recipient's latent value plus item noise, rounded to a
response option, and about 3% of the items are skipped. Items come from their own random stream, so every
other value is the same as when these measures were written as scale scores.

The generator is seeded: running it again reproduces the files byte for byte (a test checks this).
"""

from __future__ import annotations

import argparse
import datetime
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from moclab.model import template_path
from moclab.study import example_path, load_config

SEED = 20240619  # the publication date of Metz et al. 2024
ITEM_SEED = SEED + 1  # the item responses' own stream (see the module docstring)
N_SITES = 12
SUPPORT_START = datetime.date(2024, 1, 22)

AFFECT = {  # baseline level, effect of support dose
    "positive_emotion": (3.0, 1.1),
    "psych_safety": (3.1, 0.9),
    "trust": (2.9, 1.3),
    "credibility": (3.2, 0.8),
}
PATH = 1.0  # effect of one step of the pathway on the next (per scale point)
LAG = 0.3  # weight of the previous wave in what drives the next step
NOISE = 0.3  # sd of the occasion-specific noise of each measure
AFFECT_WEIGHTS = {"trust": 0.35, "psych_safety": 0.25, "positive_emotion": 0.2, "credibility": 0.2}
PERCEPTIONS = {"acceptability": 2.8, "appropriateness": 2.9, "feasibility": 2.6}
MEETING_COMPONENTS = [
    "isp-competencies:facilitation",
    "isp-competencies:co-learning",
    "isp-competencies:co-design",
    "isp-competencies:conducting-improvement-cycles",
    "isp-competencies:assessing-needs-and-assets",
]
# measure -> (instrument item prefix, number of items, scale maximum, reverse-keyed item numbers)
INSTRUMENT_ITEMS = {
    "psych_safety": ("psafe", 7, 7, (1, 3, 5)),
    "acceptability": ("aim", 4, 5, ()),
    "appropriateness": ("iam", 4, 5, ()),
    "feasibility": ("fim", 4, 5, ()),
}
ITEM_NOISE = 0.45  # sd of item-specific noise around the latent value (scale points)
ITEM_SKIP = 0.03  # chance that one item is left unanswered
COACHING_COMPONENTS = [
    "isp-competencies:building-capacity",
    "isp-competencies:tailoring-support",
    "isp-competencies:growing-and-sustaining-relationships",
    "isp-competencies:cultivating-leaders-and-champions",
]


def lagged(current: np.ndarray, before: np.ndarray) -> np.ndarray:
    """What drives the next step of the pathway: mostly this wave's value, partly the previous wave's."""
    return (1 - LAG) * current + LAG * before


def make_people(rng: np.random.Generator) -> pd.DataFrame:
    """Sites, teams, arms and recipients."""
    arms = np.array(["intensive"] * (N_SITES // 2) + ["usual"] * (N_SITES - N_SITES // 2))
    arms = rng.permutation(arms)
    rows = []
    number = 0
    for index in range(N_SITES):
        site = f"S{index + 1:02d}"
        n_teams = int(rng.integers(2, 4))
        n_people = int(rng.integers(10, 21))
        engagement = {team: ("high" if rng.random() < 0.5 else "limited") for team in range(1, n_teams + 1)}
        teams = rng.permutation(np.arange(n_people) % n_teams + 1)
        seen_team: set[int] = set()
        for team in teams:
            number += 1
            if team not in seen_team:
                role = "leader"
                seen_team.add(int(team))
            else:
                role = "manager" if rng.random() < 0.25 else "staff"
            rows.append(
                {
                    "recipient_id": f"R{number:03d}",
                    "site": site,
                    "team": f"{site}-T{team}",
                    "arm": arms[index],
                    "role": role,
                    "engagement": engagement[int(team)],
                    "years_experience": int(np.clip(np.round(rng.gamma(2.5, 4.0)), 0, 40)),
                }
            )
    return pd.DataFrame(rows)


def make_activities(rng: np.random.Generator, people: pd.DataFrame) -> pd.DataFrame:
    """The support log: team meetings and coaching (intensive), quarterly site meetings (usual)."""
    rows = []
    for site, members in people.groupby("site", sort=True):
        intensive = members["arm"].iloc[0] == "intensive"
        teams = sorted(members["team"].unique())
        coachable = members["recipient_id"].to_numpy()
        weights = np.where(members["role"].to_numpy() == "staff", 1.0, 2.5)
        for month in range(12):
            start = SUPPORT_START + datetime.timedelta(days=30 * month)
            if intensive:
                for team in teams:
                    rows.append(
                        {
                            "date": start + datetime.timedelta(days=int(rng.integers(0, 10))),
                            "site": site,
                            "team": team,
                            "recipient_id": "",
                            "component": MEETING_COMPONENTS[int(rng.integers(len(MEETING_COMPONENTS)))],
                            "minutes": int(np.clip(np.round(rng.normal(90, 15) / 5) * 5, 45, 150)),
                            "mode": "in_person" if rng.random() < 0.6 else "virtual",
                        }
                    )
                n_coaching = int(rng.poisson(2.0))
            else:
                if month % 3 == 0:
                    rows.append(
                        {
                            "date": start + datetime.timedelta(days=int(rng.integers(0, 10))),
                            "site": site,
                            "team": "",
                            "recipient_id": "",
                            "component": "isp-competencies:facilitation",
                            "minutes": 60,
                            "mode": "virtual",
                        }
                    )
                n_coaching = int(rng.poisson(0.3))
            for _ in range(n_coaching):
                person = rng.choice(coachable, p=weights / weights.sum())
                rows.append(
                    {
                        "date": start + datetime.timedelta(days=int(rng.integers(10, 28))),
                        "site": site,
                        "team": members.loc[members["recipient_id"] == person, "team"].iloc[0],
                        "recipient_id": person,
                        "component": COACHING_COMPONENTS[int(rng.integers(len(COACHING_COMPONENTS)))],
                        "minutes": int(rng.choice([30, 45, 60])),
                        "mode": "virtual" if rng.random() < 0.8 else "in_person",
                    }
                )
    activities = pd.DataFrame(rows).sort_values(["date", "site", "team", "recipient_id"], kind="stable")
    return activities.reset_index(drop=True)


def support_dose(people: pd.DataFrame, activities: pd.DataFrame, until: datetime.date) -> np.ndarray:
    """Support each recipient received before `until`, as 1 - exp(-hours / 10) (saturating, 0 to 1)."""
    before = activities[activities["date"] < until]
    hours = []
    for person in people.itertuples():
        reached = before[
            (before["recipient_id"] == person.recipient_id)
            | ((before["recipient_id"] == "") & (before["team"] == person.team))
            | ((before["recipient_id"] == "") & (before["team"] == "") & (before["site"] == person.site))
        ]
        hours.append(reached["minutes"].sum() / 60)
    return 1 - np.exp(-np.asarray(hours) / 10)


def item_rows(
    item_rng: np.random.Generator, measure: str, latent: float, recipient: str, wave: str, date: str
) -> list[list[str]]:
    """The item responses of one instrument measure for one recipient and wave.

    The latent value lives on the 1-5 scale of the other measures; a 7-point instrument stretches it to 1-7.
    Reverse-keyed items are written as a respondent answers them (8 minus the keyed value on 1-7).
    """
    prefix, n_items, maximum, reverse = INSTRUMENT_ITEMS[measure]
    centre = 1 + (latent - 1) * (maximum - 1) / 4
    keyed = np.clip(np.round(centre + item_rng.normal(0, ITEM_NOISE, n_items)), 1, maximum).astype(int)
    skipped = item_rng.random(n_items) < ITEM_SKIP
    rows = []
    for number in range(1, n_items + 1):
        answer = keyed[number - 1]
        if number in reverse:
            answer = 1 + maximum - answer
        value = "" if skipped[number - 1] else str(answer)
        rows.append([recipient, wave, f"{prefix}_{number}", value, date])
    return rows


def make_measures(
    rng: np.random.Generator,
    people: pd.DataFrame,
    activities: pd.DataFrame,
    waves: list,
    conditions: np.ndarray,
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Measures per recipient and wave, generated along the pathway; returns the long table and the values."""
    n = len(people)
    site_index = people["site"].str[1:].astype(int).to_numpy() - 1
    team_codes, team_index = np.unique(people["team"].to_numpy(), return_inverse=True)
    site_effect = rng.normal(0, 0.2, N_SITES)[site_index]
    team_effect = rng.normal(0, 0.12, len(team_codes))[team_index]
    person_effect = rng.normal(0, 0.35, n)
    condition = conditions[site_index] - 3.2

    def noise(size: int) -> np.ndarray:
        return rng.normal(0, NOISE, size)

    item_rng = np.random.default_rng(ITEM_SEED)
    values: dict[str, np.ndarray] = {}
    previous: dict[str, np.ndarray] = {}
    rows = []
    present = np.ones(n, dtype=bool)
    for t, wave in enumerate(waves):
        dose = support_dose(people, activities, wave.date) if t else np.zeros(n)
        now: dict[str, np.ndarray] = {}
        for name, (base, effect) in AFFECT.items():
            extra = team_effect if name == "psych_safety" else 0.0
            now[name] = (
                base + site_effect + person_effect + extra + effect * dose * (1 + 0.25 * condition) + noise(n)
            )

        driver = sum(weight * now[name] for name, weight in AFFECT_WEIGHTS.items())
        driver_before = sum(weight * previous.get(name, now[name]) for name, weight in AFFECT_WEIGHTS.items())
        affect = lagged(driver, driver_before)
        for name, base in PERCEPTIONS.items():
            now[name] = base + 0.5 * site_effect + 0.3 * person_effect + PATH * (affect - 3) + noise(n)
        perceived = np.mean([now[name] for name in PERCEPTIONS], axis=0)
        perceived_before = np.mean([previous.get(name, now[name]) for name in PERCEPTIONS], axis=0)
        perceptions = lagged(perceived, perceived_before)
        now["knowledge"] = (
            2.5 + 0.3 * site_effect + 0.2 * person_effect + PATH * (perceptions - 2.75) + noise(n)
        )
        knowledge = lagged(now["knowledge"], previous.get("knowledge", now["knowledge"]))
        now["application"] = 2.3 + 0.3 * site_effect + team_effect + PATH * (knowledge - 2.5) + noise(n)
        application = lagged(now["application"], previous.get("application", now["application"]))
        now["sustained_capacity"] = 2.2 + 0.5 * site_effect + PATH * (application - 2.3) + noise(n)
        now = {name: np.round(np.clip(value, 1, 5), 2) for name, value in now.items()}
        previous = now
        if t:  # some recipients miss a wave; having missed one makes missing the next likelier
            miss = rng.random(n) < np.where(present, 0.04 * t, 0.5)
            present = ~miss
        days = rng.integers(0, 22, n)
        for index in np.flatnonzero(present):
            date = wave.date + datetime.timedelta(days=int(days[index]))
            recipient = people["recipient_id"].iloc[index]
            for name in [*AFFECT, *PERCEPTIONS, "knowledge", "application", "sustained_capacity"]:
                missing = rng.random() < 0.03  # drawn for every measure, so the main stream stays the same
                if name in INSTRUMENT_ITEMS:
                    if not missing:  # a missing measure is an instrument not filled in at all
                        latent = float(now[name][index])
                        rows += item_rows(item_rng, name, latent, recipient, wave.id, date.isoformat())
                    continue
                value = "" if missing else f"{now[name][index]:.2f}"
                rows.append([recipient, wave.id, name, value, date.isoformat()])
        values.update({f"{name}@{wave.id}": value for name, value in now.items()})
    return pd.DataFrame(rows, columns=["recipient_id", "wave", "measure", "value", "date"]), values


def make_outcomes(
    rng: np.random.Generator, people: pd.DataFrame, waves: list, values: dict, conditions: np.ndarray
) -> pd.DataFrame:
    """Site-level values: supportive conditions and the share of initiatives meeting their targets."""
    rows = []
    sites = sorted(people["site"].unique())
    for wave in waves:
        capacity = (
            pd.Series(values[f"sustained_capacity@{wave.id}"]).groupby(people["site"].to_numpy()).mean()
        )
        for index, site in enumerate(sites):
            rated = np.clip(conditions[index] + rng.normal(0, 0.15), 1, 5)
            share = 1 / (1 + np.exp(-(-0.6 + 1.5 * (capacity[site] - 2.3) + rng.normal(0, 0.2))))
            rows.append([site, wave.id, "supportive_conditions", f"{rated:.2f}"])
            rows.append([site, wave.id, "service_outcomes", f"{share:.2f}"])
    return pd.DataFrame(rows, columns=["site", "wave", "measure", "value"])


def generate(out: Path) -> None:
    """Write model.yaml and data/*.csv of the example study under `out`."""
    config = load_config(example_path())
    waves = config.design.waves
    rng = np.random.default_rng(SEED)
    people = make_people(rng)
    conditions = np.clip(rng.normal(3.2, 0.5, N_SITES), 1, 5)
    activities = make_activities(rng, people)
    measures, values = make_measures(rng, people, activities, waves, conditions)
    outcomes = make_outcomes(rng, people, waves, values, conditions)
    data = out / "data"
    data.mkdir(parents=True, exist_ok=True)
    options = {"index": False, "lineterminator": "\n"}
    people.to_csv(data / "recipients.csv", **options)
    measures.to_csv(data / "measures.csv", **options)
    activities.assign(date=activities["date"].map(datetime.date.isoformat)).to_csv(
        data / "activities.csv", **options
    )
    outcomes.to_csv(data / "outcomes.csv", **options)
    header = "# Copied from moclab's recipient-pathway template for the synthetic example study.\n"
    model = out / "model.yaml"
    model.write_text(
        header + template_path("recipient-pathway").read_text(encoding="utf-8"), encoding="utf-8"
    )
    if out.resolve() != example_path().resolve():
        for name in ("moclab.yaml", "README.md"):
            if (example_path() / name).exists():
                shutil.copyfile(example_path() / name, out / name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--out", type=Path, default=example_path(), help="folder to write (default: the example)"
    )
    args = parser.parse_args()
    generate(args.out)
    print(f"wrote the example study data to {args.out}")


if __name__ == "__main__":
    main()
