"""Small synthetic projects built in code, for the analysis tests (no real persons, no vendor files)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from moclab.qual.project import Case, Code, Coding, Note, Project, Selection, TextSource, User, new_guid

#: (start, end, code name, coder name) of one coded selection.
Span = tuple[int, int, str, str | None]


def build_project(
    sources: Sequence[tuple[str, str, Iterable[Span]]],
    *,
    codes: Sequence[str | tuple[str, str]] = (),
    cases: dict[str, tuple[list[str], dict[str, object]]] | None = None,
    memos: dict[str, str] | None = None,
    name: str = "test project",
) -> Project:
    """A project from plain tuples.

    codes: names, or (name, parent name) pairs, in codebook order; codes named in spans but not listed are
    added at the top level. sources: (source name, text, spans). cases: case name -> (source names,
    attributes). memos: source name -> memo text.
    """
    project = Project(name)
    by_name: dict[str, Code] = {}
    users: dict[str, User] = {}

    def code(code_name: str, parent: str | None = None) -> Code:
        if code_name not in by_name:
            by_name[code_name] = Code(new_guid(), code_name, parent=by_name[parent].guid if parent else None)
            project.codes.append(by_name[code_name])
        return by_name[code_name]

    def user(user_name: str | None) -> str | None:
        if user_name is None:
            return None
        if user_name not in users:
            users[user_name] = User(new_guid(), user_name)
            project.users.append(users[user_name])
        return users[user_name].guid

    for entry in codes:
        if isinstance(entry, tuple):
            code(*entry)
        else:
            code(entry)
    for source_name, text, spans in sources:
        source = TextSource(new_guid(), source_name, text)
        for start, end, code_name, coder in spans:
            creator = user(coder)
            coding = Coding(new_guid(), code(code_name).guid, creator=creator)
            source.selections.append(Selection(new_guid(), start, end, creator=creator, codings=[coding]))
        if memos and source_name in memos:
            note = Note(new_guid(), f"Memo on {source_name}", memos[source_name])
            project.notes.append(note)
            source.note_refs.append(note.guid)
        project.sources.append(source)
    guids = {s.name: s.guid for s in project.sources}
    for case_name, (members, attributes) in (cases or {}).items():
        project.cases.append(
            Case(new_guid(), case_name, sources=[guids[m] for m in members], variables=attributes)
        )
    return project
