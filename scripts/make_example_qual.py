"""Generate moclab's SYNTHETIC example qualitative project: made-up interviews, no real people or places.

    .venv/bin/python scripts/make_example_qual.py             # rewrite the bundled .qdpx
    .venv/bin/python scripts/make_example_qual.py --out FILE  # write the same project to FILE instead

The bundled file is src/moclab/qual/example/recipient-interviews.qdpx (`moclab.qual.example_project_path()`).

Twelve short interviews with recipients of implementation support, written for moclab, follow the
experiences-and-outcomes pathway of Metz et al. (2024, Front Health Serv 4:1323807): implementation support →
affective response (positive emotion, psychological safety, trust, credibility) → acceptability,
appropriateness, feasibility → knowledge and application → sustained capacity and outcomes. Six recipients had
high engagement (12 months or more of support), six limited engagement (6 to 11 months); engagement length,
role and months of support are case variables. Each interview has a memo.

Two coders code every interview with the recipient-pathway codebook (`moclab qual codebook recipient-pathway`
gives it as .qdc). The texts mark coder A's codings as ``{code: quoted words}``; ``{A>code: ...}`` and
``{B>code: ...}`` are codings only one coder made. Coder B's version of the shared codings is derived with a
seeded generator: B sometimes takes in the next sentence or leaves out an opening clause, sometimes picks a
neighbouring code (trust for credibility, acceptability for appropriateness...) and sometimes leaves a
selection out, which gives the partial agreement inter-coder statistics need. Running the script again
reproduces the file byte for byte.
"""

from __future__ import annotations

import argparse
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from moclab.qual import example_project_path, recipient_pathway_codebook, stable_guid
from moclab.qual.project import Case, Coding, Note, Project, Selection, TextSource, User, Variable
from moclab.qual.refi.writer import write_qdpx

SEED = 20240619  # the publication date of Metz et al. 2024
START = datetime(2024, 9, 2, 9, 0, tzinfo=UTC)

CODES = {
    "support": "Implementation support",
    "emotion": "Positive emotion",
    "safety": "Psychological safety",
    "trust": "Trust",
    "cred": "Credibility",
    "accept": "Acceptability",
    "approp": "Appropriateness",
    "feas": "Feasibility",
    "know": "Knowledge",
    "apply": "Application",
    "capacity": "Sustained implementation capacity",
    "outcomes": "Better outcomes",
}
NEIGHBOURS = {
    "trust": "cred",
    "cred": "trust",
    "emotion": "safety",
    "safety": "trust",
    "accept": "approp",
    "approp": "feas",
    "feas": "approp",
    "know": "apply",
    "apply": "know",
    "capacity": "outcomes",
    "outcomes": "capacity",
    "support": "trust",
}
P_LEAVE_OUT = 0.10  # coder B does not code a selection coder A coded
P_NEIGHBOUR = 0.14  # coder B picks the neighbouring code
P_EXTEND = 0.2  # coder B takes in the next sentence as well
P_TRIM = 0.2  # coder B leaves out the opening clause (up to the first comma) of coder A's words

INTERVIEWS = [
    {
        "id": "R01",
        "role": "program manager",
        "engagement": "high",
        "months": 18,
        "memo": "Trust came first and was tied to being heard; the learning followed from it. Clear capacity "
        "story: the team now runs its own improvement cycles.",
        "text": """\
I: Can you tell me how the support started for your team?
R: {support: The implementation support team came to our monthly meeting and mostly listened for the \
first two sessions.} \
{emotion: Honestly it was a relief, I left those meetings with more energy than I came in with.}
I: What made it feel that way?
R: {trust: They remembered what we had said the month before and came back with something useful.} \
{safety: I could say that our intake process was a mess and nobody made me feel small for it.}
I: How did that change how you saw implementation science?
R: {accept: Before, frameworks sounded like homework from the funder. After a few months I actually \
wanted to use them.} \
{approp: The tools fit the way our case workers already think about families.}
I: What did you learn?
R: {know: I learned to name the barriers we were seeing and to separate a barrier from a symptom.} \
{apply: We rewrote the intake checklist together and tested it with two case workers first.}
I: And now that the support has ended?
R: {capacity: We still run a small improvement cycle every quarter without anyone from outside.} \
{outcomes: Families wait less for a first visit, and that is what I care about.}
""",
    },
    {
        "id": "R02",
        "role": "director",
        "engagement": "high",
        "months": 24,
        "memo": "Credibility of the ISPs carried the early phase for a skeptical director. "
        "Feasibility was the "
        "turning point rather than acceptability.",
        "text": """\
I: What was your first impression of the implementation support?
R: I was skeptical, to be frank. {cred: But they clearly knew the research and they had worked in \
agencies like ours.} \
{B>trust: That counted for a lot with me.}
I: Did that change how you felt about the work?
R: {emotion: I started to look forward to the sessions, which surprised me.} \
{trust: When they said something would take three months, it took three months.}
I: How did you come to use the approaches?
R: {feas: What convinced me was that the steps were small enough for a team that is already stretched.} \
{accept: Once it felt doable, the staff were much more open to it.}
I: Can you give an example?
R: {apply: We used the readiness assessment before launching the new parenting program.} \
{know: I understand now why we failed with the last rollout: we never checked whether people were ready.}
I: What remains of the work today?
R: {capacity: Readiness checks are part of every new initiative; it is in our planning template.} \
{A>outcomes: The last two programs started on time and kept their staff.}
""",
    },
    {
        "id": "R03",
        "role": "case work supervisor",
        "engagement": "limited",
        "months": 8,
        "memo": "Psychological safety is the dominant theme. Knowledge grew but application stayed partial; "
        "the engagement ended before routines formed.",
        "text": """\
I: How would you describe working with the implementation support practitioners?
R: {support: They ran short coaching calls with me every other week.} \
{safety: It was the first time I could admit in a meeting that I did not understand the data reports.}
I: How did that feel?
R: {emotion: It felt good, genuinely good, to be treated as someone who could learn.} \
{safety: Other supervisors started asking questions too once they saw nobody was judged.}
I: Did your view of the methods change?
R: {approp: I saw that the fidelity checklist actually matched what we supervise anyway.} \
{A>accept: So I stopped seeing it as extra paperwork.}
I: What did you take from it?
R: {know: I learned how to read a run chart and what a real change looks like versus noise.} \
{apply: I tried it with my unit's home visit numbers, although we only got halfway.}
I: What happened after the support ended?
R: Honestly, we slipped back. {B>capacity: Without the calls, nobody had time to keep the charts going.}
""",
    },
    {
        "id": "R04",
        "role": "data analyst",
        "engagement": "limited",
        "months": 6,
        "memo": "Knowledge before affect: the analyst talks about learning first and trust later. A useful "
        "counter-example to the usual order.",
        "text": """\
I: What stands out from the months of support?
R: {know: Mostly the methods: I learned how to set up a simple interrupted time series for our program \
data.} \
{apply: I built one for the school attendance project within a month.}
I: How was the relationship with the practitioners?
R: {trust: It grew over time; by the end I trusted them to look at my messy code.} \
{cred: They were very good with data, better than the consultants we had before.}
I: Did the approaches fit your work?
R: {approp: Yes, they fit the questions our directors ask all the time.} \
{feas: And they were feasible with the software we already have.}
I: Was there anything difficult?
R: {B>safety: At first I did not want to show my analyses to anyone outside the team.} \
It was only six months, so we stopped right when it became interesting.
""",
    },
    {
        "id": "R05",
        "role": "program manager",
        "engagement": "high",
        "months": 15,
        "memo": "Textbook sequence from support through acceptability to sustained capacity. The "
        "manager credits "
        "trust explicitly as the reason staff engaged.",
        "text": """\
I: Tell me about the support your team received.
R: {support: We had monthly team meetings with the practitioners and coaching in between for the leads.} \
{emotion: People came out of those meetings smiling, which is rare here.}
I: What was it about the meetings?
R: {trust: The staff trusted them quickly because they did what they promised.} \
{safety: We could disagree with them, and with each other, and it was fine.}
I: How did staff see the implementation work?
R: {accept: The staff started to like the approach; they asked for the next session.} \
{approp: It made sense for a team that works with young people leaving care.} \
{feas: The practitioners made sure every task fit into a normal week.}
I: What did the team learn and use?
R: {know: We learned what implementation drivers are and how to check them.} \
{apply: We now use the drivers checklist when we train new mentors.}
I: Looking ahead?
R: {capacity: Two of our leads coach new teams themselves now.} \
{outcomes: More young people stay with their mentor for the full year.}
""",
    },
    {
        "id": "R06",
        "role": "frontline worker",
        "engagement": "limited",
        "months": 7,
        "memo": "Positive emotion but weak follow-through: acceptability without application. "
        "Limited engagement "
        "and staff turnover are named as reasons.",
        "text": """\
I: How did you experience the support?
R: {emotion: I enjoyed it; the sessions were warm and a bit of fun.} \
{support: They came to three of our team days and showed us some tools.}
I: Did you feel comfortable in those sessions?
R: {safety: Yes, I could ask basic questions without feeling stupid.} \
{trust: I trusted them, they were honest about what they did not know.}
I: And the tools themselves?
R: {accept: I liked the tools and I thought we would use them.} \
{B>approp: They seemed right for the kind of families we see.}
I: Did you use them?
R: Not really. {A>feas: With half the team leaving that spring there was no time to try something new.} \
{know: I do remember the idea of testing a change on a small scale first.}
""",
    },
    {
        "id": "R07",
        "role": "quality improvement lead",
        "engagement": "high",
        "months": 20,
        "memo": "Credibility and trust intertwined; the lead uses the word 'partner'. Strong application and "
        "capacity; outcomes described concretely.",
        "text": """\
I: What was the relationship with the practitioners like?
R: {cred: They brought real expertise, they had published on exactly our kind of program.} \
{trust: Over the months they became partners rather than experts; we trusted each other.}
I: How did it feel to work with them?
R: {emotion: It was energising, I think the whole quality team felt more hopeful.} \
{safety: We could show them failures and talk about them openly.}
I: Did the methods suit your organisation?
R: {approp: The approach matched how we already think about quality.} \
{accept: So there was little resistance, people accepted it quickly.}
I: What changed in your practice?
R: {know: I understand the difference between adapting a program and drifting away from it.} \
{apply: We set up fidelity monitoring with adaptation logs for all three programs.}
I: What is left now?
R: {capacity: The monitoring runs without them; it is part of the quality team's job descriptions.} \
{outcomes: Our fidelity scores went up and so did parent satisfaction.}
""",
    },
    {
        "id": "R08",
        "role": "director",
        "engagement": "limited",
        "months": 10,
        "memo": "Feasibility concerns dominate. Trust is present but conditional. No capacity claim.",
        "text": """\
I: How did the support fit your agency?
R: {support: We had a practitioner join our leadership meetings for most of the year.} \
{feas: My worry from the start was whether we could do any of this with our staffing.}
I: Did that worry change?
R: {feas: Partly; they cut the work into pieces small enough for us.} \
{trust: I came to trust their judgement, though I checked their advice against our budget every time.}
I: What did the leadership team learn?
R: {know: We learned to map who needs to be involved before deciding anything.} \
{apply: We used that stakeholder map for the new housing partnership.}
I: Will the work continue?
R: {B>capacity: Maybe, if we find the money for a coordinator.} \
It is too early to say anything about outcomes.
""",
    },
    {
        "id": "R09",
        "role": "case worker",
        "engagement": "high",
        "months": 14,
        "memo": "Psychological safety and positive emotion lead to acceptability; the worker "
        "describes a change "
        "in identity ('I am someone who tests things').",
        "text": """\
I: What was it like to receive this support?
R: {safety: What mattered to me was feeling safe to say when something was not working.} \
{emotion: I felt respected and, honestly, happy to be included.}
I: Did it change how you think about implementation?
R: {accept: I went from thinking it was management's thing to thinking it was mine too.} \
{approp: The methods fit the reality of home visits.}
I: What did you learn?
R: {know: I learned how to plan a small test and what to measure.} \
{apply: I tested a new way of scheduling visits with four of my families.} \
{apply: Now I am someone who tests things before complaining about them.}
I: What about the longer term?
R: {capacity: Our team keeps a list of small tests and reviews it every month.} \
{A>outcomes: Fewer visits get cancelled than before.}
""",
    },
    {
        "id": "R10",
        "role": "program coordinator",
        "engagement": "limited",
        "months": 9,
        "memo": "Credibility is the main affective theme; acceptability and appropriateness follow. The "
        "coordinator applied the tools once.",
        "text": """\
I: What did you think of the practitioners?
R: {cred: They were credible, they had done this work in agencies like ours.} \
{support: They gave us templates and met with us once a month.}
I: How did that shape your view of the methods?
R: {approp: I could see the approach was appropriate for a small program like ours.} \
{accept: And the team was willing to give it a go.}
I: What did you learn?
R: {know: How to write an implementation plan with clear roles.} \
{apply: We wrote one for the summer reading program.}
I: And afterwards?
R: {B>feas: Keeping it up is hard with a part-time team.} \
We have not written another plan since.
""",
    },
    {
        "id": "R11",
        "role": "program manager",
        "engagement": "high",
        "months": 16,
        "memo": "Rich affective response: all four components appear. The manager links trust directly to "
        "feasibility ('they made it possible').",
        "text": """\
I: How would you describe the support?
R: {support: It was coaching for me and facilitation for the whole team, about twice a month.} \
{emotion: I felt lighter after every session.}
I: What made the difference?
R: {trust: I trusted them because they were honest when something was not going well.} \
{cred: They knew their stuff, you could tell from the first meeting.} \
{safety: My staff could raise problems without worrying about consequences.}
I: How did it affect your view of the work?
R: {feas: They made it possible; I would not have tried this alone.} \
{accept: I became a believer in using evidence to guide practice.}
I: What did you learn and apply?
R: {know: I learned to look at implementation outcomes separately from client outcomes.} \
{apply: We added acceptability and feasibility questions to our staff survey.}
I: And now?
R: {capacity: The survey runs every six months and the results go to the board.} \
{outcomes: Staff turnover has dropped and I think that helps families.}
""",
    },
    {
        "id": "R12",
        "role": "frontline worker",
        "engagement": "limited",
        "months": 6,
        "memo": "Short engagement, positive but thin: emotion and some knowledge, no application. Useful to "
        "contrast with R09.",
        "text": """\
I: What do you remember of the support?
R: {support: Two workshops and a few emails, it was short.} \
{emotion: The workshops were enjoyable and the practitioners were kind.}
I: Did you feel able to take part?
R: {safety: Yes, it was a friendly room and people spoke up.} \
{A>trust: I would trust them if they came back.}
I: What did you learn?
R: {know: That you should check whether people are ready before starting something new.} \
{B>approp: It made sense for our service.}
I: Did anything change in your work?
R: Not yet. We were in the middle of a reorganisation.
""",
    },
]
_MARK = re.compile(r"\{(?:(A|B)>)?([a-z]+): ([^{}]+?)\}")
_SENTENCE_END = re.compile(r"[.?!](?=\s|$)")


def parse_text(marked: str) -> tuple[str, list[tuple[int, int, str, str]]]:
    """The plain text of a marked-up interview and its spans: (start, end, code key, 'AB' / 'A' / 'B')."""
    text_parts: list[str] = []
    spans: list[tuple[int, int, str, str]] = []
    position = 0
    cursor = 0
    for match in _MARK.finditer(marked):
        before = marked[cursor : match.start()]
        text_parts.append(before)
        position += len(before)
        words = match.group(3)
        coders, key = match.group(1) or "AB", match.group(2)
        if key not in CODES:
            raise ValueError(f"unknown code key '{key}'")
        spans.append((position, position + len(words), key, coders))
        text_parts.append(words)
        position += len(words)
        cursor = match.end()
    text_parts.append(marked[cursor:])
    return "".join(text_parts), spans


def next_sentence_end(text: str, end: int) -> int:
    """The end of the sentence after the one ending at `end`, on the same line (or `end` if there is none)."""
    line_end = text.find("\n", end)
    line_end = len(text) if line_end < 0 else line_end
    following = _SENTENCE_END.search(text, end + 1, line_end)
    return following.end() if following else end


def build() -> Project:
    """The example project (deterministic)."""
    rng = np.random.default_rng(SEED)
    codebook = recipient_pathway_codebook()
    code_guid = {key: codebook.code(name).guid for key, name in CODES.items()}
    coders = [User(stable_guid("example", "coder", c), f"Coder {c}", id=c) for c in "AB"]
    variables = [
        Variable(
            stable_guid("example", "variable", "engagement"),
            "engagement",
            "Text",
            "Engagement length: high (12 months or more of support) or limited (6 to 11 months).",
        ),
        Variable(stable_guid("example", "variable", "role"), "role", "Text", "The recipient's role."),
        Variable(
            stable_guid("example", "variable", "months"),
            "months_of_support",
            "Integer",
            "Months of implementation support received.",
        ),
    ]
    project = Project(
        name="Recipient interviews (SYNTHETIC example)",
        created=START,
        modified=START + timedelta(days=30),
        creator=coders[0].guid,
        users=coders,
        codes=codebook.codes,
        sets=codebook.sets,
        variables=variables,
        description=(
            "SYNTHETIC example made for moclab: twelve made-up interviews with recipients of implementation "
            "support, following the experiences-and-outcomes pathway of Metz et al. (2024, Front Health Serv "
            "4:1323807). No real people, organisations or places. Coded by two coders with the "
            "recipient-pathway codebook. Generated by scripts/make_example_qual.py."
        ),
    )
    for number, interview in enumerate(INTERVIEWS):
        text, spans = parse_text(interview["text"])
        source_guid = stable_guid("example", "source", interview["id"])
        memo = Note(
            guid=stable_guid("example", "memo", interview["id"]),
            name=f"Memo {interview['id']}",
            text=interview["memo"],
            creator=coders[0].guid,
            created=START + timedelta(days=number, hours=3),
        )
        project.notes.append(memo)
        source = TextSource(
            guid=source_guid,
            name=f"Interview {interview['id']}",
            text=text,
            note_refs=[memo.guid],
            created=START + timedelta(days=number),
            creator=coders[0].guid,
        )
        for index, (start, end, key, who) in enumerate(spans):
            for coder in coders:
                letter = coder.id
                if letter not in who:
                    continue
                code_key, first, last = key, start, end
                if letter == "B" and who == "AB":
                    draw = rng.random(4)
                    if draw[0] < P_LEAVE_OUT:
                        continue
                    if draw[1] < P_NEIGHBOUR:
                        code_key = NEIGHBOURS[key]
                    if draw[2] < P_EXTEND:
                        last = next_sentence_end(text, end)
                    comma = text.find(", ", start, end)
                    if draw[3] < P_TRIM and comma > 0:
                        first = comma + 2
                when = START + timedelta(days=number + (7 if letter == "B" else 1), minutes=index)
                selection_guid = stable_guid("example", "selection", interview["id"], letter, str(index))
                source.selections.append(
                    Selection(
                        guid=selection_guid,
                        start=first,
                        end=last,
                        creator=coder.guid,
                        created=when,
                        codings=[
                            Coding(
                                guid=stable_guid("example", "coding", selection_guid),
                                code=code_guid[code_key],
                                creator=coder.guid,
                                created=when,
                            )
                        ],
                    )
                )
        project.sources.append(source)
        project.cases.append(
            Case(
                guid=stable_guid("example", "case", interview["id"]),
                name=interview["id"],
                description=f"Recipient {interview['id']} ({interview['role']}), synthetic.",
                sources=[source_guid],
                variables={
                    "engagement": interview["engagement"],
                    "role": interview["role"],
                    "months_of_support": interview["months"],
                },
            )
        )
    return project


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=example_project_path(), help="where to write the .qdpx")
    args = parser.parse_args()
    write_qdpx(build(), args.out, overwrite=True)
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
