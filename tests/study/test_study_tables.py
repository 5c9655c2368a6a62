"""Reading tables: every format gives the same data; every bad file gives an error saying what to do."""

from __future__ import annotations

import codecs
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from moclab.study.columns import convert
from moclab.study.config import ColumnSpec
from moclab.study.tables import TableReadError, read_source, read_table

SPECS = {
    "recipient_id": ColumnSpec(type="string"),
    "wave": ColumnSpec(type="category", values=["baseline", "m6"]),
    "value": ColumnSpec(type="number"),
    "count": ColumnSpec(type="integer"),
    "date": ColumnSpec(type="date"),
    "done": ColumnSpec(type="boolean"),
}

TYPED = pd.DataFrame(
    {
        "recipient_id": ["007", "R2", "R3", "R4"],
        "wave": ["baseline", "m6", "baseline", "m6"],
        "value": [3.5, 4.0, np.nan, 1.25],
        "count": pd.array([1, None, 3, 10], dtype="Int64"),
        "date": pd.to_datetime(["2024-01-15", "2024-07-20", None, "2024-07-02"]),
        "done": pd.array([True, False, None, True], dtype="boolean"),
    }
)

CSV_TEXT = (
    "recipient_id,wave,value,count,date,done\n"
    "007,baseline,3.5,1,2024-01-15,true\n"
    "R2,m6,4,,2024-07-20,false\n"
    "R3,baseline,NA,3,,\n"
    "R4,m6,1.25,10,2024-07-02,yes\n"
)


def typed(path: Path, **options: object) -> pd.DataFrame:
    """A table read and converted with SPECS, as the study checks do."""
    raw = read_table(path, **options)
    return pd.DataFrame({name: convert(raw[name], spec).values for name, spec in SPECS.items()})


def expected() -> pd.DataFrame:
    result = TYPED.copy()
    result["recipient_id"] = result["recipient_id"].astype("str")
    result["wave"] = pd.Categorical(result["wave"], categories=["baseline", "m6"])
    result["date"] = result["date"].astype("datetime64[us]")
    return result


def test_csv_tsv_txt_excel_and_parquet_load_to_the_same_frame(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text(CSV_TEXT, encoding="utf-8")
    (tmp_path / "t.tsv").write_text(CSV_TEXT.replace(",", "\t"), encoding="utf-8")
    (tmp_path / "t.txt").write_text(CSV_TEXT.replace(",", "\t"), encoding="utf-8")
    TYPED.to_excel(tmp_path / "t.xlsx", index=False)
    TYPED.to_parquet(tmp_path / "t.parquet", index=False)
    for name in ("t.csv", "t.tsv", "t.txt", "t.xlsx", "t.parquet"):
        pd.testing.assert_frame_equal(typed(tmp_path / name), expected(), check_dtype=True, obj=name)


def test_text_formats_keep_every_cell_as_written(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text(CSV_TEXT, encoding="utf-8")
    frame = read_table(tmp_path / "t.csv")
    assert frame["recipient_id"].tolist() == ["007", "R2", "R3", "R4"]  # leading zeros kept
    assert frame["value"].tolist()[:2] == ["3.5", "4"]
    assert frame["value"].isna().tolist() == [False, False, True, False]  # "NA" is missing


def test_excel_sheet_by_name(tmp_path: Path) -> None:
    with pd.ExcelWriter(tmp_path / "book.xlsx") as writer:
        pd.DataFrame({"a": [1]}).to_excel(writer, sheet_name="notes", index=False)
        TYPED.to_excel(writer, sheet_name="measures", index=False)
    pd.testing.assert_frame_equal(typed(tmp_path / "book.xlsx", sheet="measures"), expected())


def test_excel_missing_sheet_lists_the_sheets(tmp_path: Path) -> None:
    TYPED.to_excel(tmp_path / "book.xlsx", index=False, sheet_name="data")
    with pytest.raises(TableReadError) as caught:
        read_table(tmp_path / "book.xlsx", sheet="measures")
    assert "no sheet named 'measures'" in str(caught.value)
    assert "sheets in this workbook: 'data'" in str(caught.value)


def test_excel_lines_count_blank_rows_above_the_header(tmp_path: Path) -> None:
    TYPED.to_excel(tmp_path / "book.xlsx", index=False, startrow=2)
    source = read_source(tmp_path / "book.xlsx")
    assert source.header_line == 3
    assert source.line(1) == 4
    assert source.where(2) == "line 5 (row 2)"


def test_parquet_rows_have_no_lines(tmp_path: Path) -> None:
    TYPED.to_parquet(tmp_path / "t.parquet")
    source = read_source(tmp_path / "t.parquet")
    assert source.line(3) is None
    assert source.where(3) == "row 3"


def test_cp1252_file_names_the_detected_encoding_and_how_to_convert(tmp_path: Path) -> None:
    text = "recipient_id,site,note\nR001,Zürich,café crème\nR002,Malmö,naïve résumé – ok\n"
    (tmp_path / "people.csv").write_bytes(text.encode("cp1252"))
    with pytest.raises(TableReadError) as caught:
        read_table(tmp_path / "people.csv")
    error = caught.value
    assert "not UTF-8 text (byte 0xfc on line 2); it looks like cp1252" in error.message
    assert "cp1250" in error.message  # an equally plausible reading is named as an alternative
    assert "iconv -f cp1252 -t utf-8 people.csv > people-utf8.csv" in error.hint
    assert "`encoding: cp1252`" in error.hint
    assert error.problem.line == 2 and error.problem.file.endswith("people.csv")
    # The detected encoding is right: reading the file with it gives the original text back.
    frame = read_table(tmp_path / "people.csv", encoding="cp1252")
    assert frame["site"].tolist() == ["Zürich", "Malmö"]
    assert frame["note"].tolist() == ["café crème", "naïve résumé – ok"]


def test_latin1_file_is_detected_as_a_western_encoding_that_reads_it(tmp_path: Path) -> None:
    text = "id,site,note\nR1,Bogotá,señora\nR2,São Paulo,açaí\nR3,Köln,Größe\n"
    raw = text.encode("latin-1")
    (tmp_path / "sites.csv").write_bytes(raw)
    with pytest.raises(TableReadError) as caught:
        read_table(tmp_path / "sites.csv")
    detected = caught.value.message.rsplit("it looks like ", 1)[1].split(" (or ")[0]
    assert detected in ("cp1252", "iso8859-1", "iso8859-15")
    assert raw.decode(detected) == text
    assert f"iconv -f {detected} -t utf-8" in caught.value.hint


def test_wrong_declared_encoding_is_reported(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_bytes("id\nR1\n".encode("utf-16"))
    with pytest.raises(TableReadError, match="unknown encoding 'klingon'"):
        read_table(tmp_path / "t.csv", encoding="klingon")


def test_utf8_bom_and_crlf_are_read(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_bytes(codecs.BOM_UTF8 + CSV_TEXT.replace("\n", "\r\n").encode("utf-8"))
    pd.testing.assert_frame_equal(typed(tmp_path / "t.csv"), expected())
    assert read_source(tmp_path / "t.csv").line(4) == 5


@pytest.mark.parametrize("content", [b"", b"\n\n  \n"])
def test_empty_file_is_an_error_that_suggests_a_header(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "measures.csv").write_bytes(content)
    with pytest.raises(TableReadError) as caught:
        read_source(tmp_path / "measures.csv", expected=["recipient_id", "wave", "measure", "value"])
    assert caught.value.problem.message == "the file is empty"
    assert "recipient_id,wave,measure,value" in caught.value.hint


def test_header_only_gives_an_empty_frame_with_the_columns(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("recipient_id,wave,value\n", encoding="utf-8")
    frame = read_table(tmp_path / "t.csv")
    assert list(frame.columns) == ["recipient_id", "wave", "value"] and len(frame) == 0


def test_row_with_too_many_values_names_its_line(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("a,b,c\n1,2,3\n4,5,6\n7,8,9,10\n", encoding="utf-8")
    with pytest.raises(TableReadError) as caught:
        read_table(tmp_path / "t.csv")
    assert caught.value.problem.line == 4
    assert "this line has 4 values but the header names 3 columns" in caught.value.message
    assert "double quotes" in caught.value.hint


def test_duplicate_column_names_are_refused(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("id,value,value\n1,2,3\n", encoding="utf-8")
    with pytest.raises(TableReadError, match=r"'value' appears twice in the header \(columns 2 and 3\)"):
        read_table(tmp_path / "t.csv")


def test_unnamed_column_with_values_is_refused_and_an_empty_one_dropped(tmp_path: Path) -> None:
    (tmp_path / "bad.csv").write_text("id,,value\n1,x,2\n", encoding="utf-8")
    with pytest.raises(TableReadError, match="column 2 holds values but has no name"):
        read_table(tmp_path / "bad.csv")
    (tmp_path / "trailing.csv").write_text("id,value,\n1,2,\n3,4,\n", encoding="utf-8")
    assert list(read_table(tmp_path / "trailing.csv").columns) == ["id", "value"]


def test_header_names_are_stripped(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text(" id , value\n1,2\n", encoding="utf-8")
    assert list(read_table(tmp_path / "t.csv").columns) == ["id", "value"]


def test_lines_count_blank_lines_and_values_spanning_lines(tmp_path: Path) -> None:
    text = '\nid,note\n1,"first\nsecond"\n\n2,plain\n3,x\n'
    (tmp_path / "t.csv").write_text(text, encoding="utf-8")
    source = read_source(tmp_path / "t.csv")
    assert source.frame["id"].tolist() == ["1", "2", "3"]
    assert source.header_line == 2
    assert source.lines([1, 2, 3]).tolist() == [3, 6, 7]


def test_semicolon_separated_csv_is_recognised(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("id;value\nR1;3.5\n", encoding="utf-8")
    frame = read_table(tmp_path / "t.csv")
    assert frame.to_dict(orient="list") == {"id": ["R1"], "value": ["3.5"]}


def test_declared_delimiter_and_missing_values(tmp_path: Path) -> None:
    (tmp_path / "t.txt").write_text("id|value\nR1|-99\nR2|4\n", encoding="utf-8")
    frame = read_table(tmp_path / "t.txt", delimiter="|", missing=["-99"])
    assert frame["value"].isna().tolist() == [True, False]


def test_unsupported_and_old_excel_files(tmp_path: Path) -> None:
    (tmp_path / "t.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(TableReadError) as caught:
        read_table(tmp_path / "t.xls")
    assert "unsupported file type '.xls'" in caught.value.message
    assert "save it as .xlsx or .csv" in caught.value.hint


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(TableReadError, match="file not found"):
        read_table(tmp_path / "nope.csv")
    with pytest.raises(TableReadError, match="is a folder"):
        read_table(tmp_path)


def test_corrupt_workbook_and_parquet(tmp_path: Path) -> None:
    (tmp_path / "t.xlsx").write_text("id,value\n", encoding="utf-8")
    with pytest.raises(TableReadError, match=r"not a readable \.xlsx workbook"):
        read_table(tmp_path / "t.xlsx")
    (tmp_path / "t.parquet").write_text("id,value\n", encoding="utf-8")
    with pytest.raises(TableReadError, match="not a readable Parquet file"):
        read_table(tmp_path / "t.parquet")
