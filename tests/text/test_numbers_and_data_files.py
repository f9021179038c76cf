"""Numbers as each language writes them, and the one reader of per-language data files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import TypeAdapter

from server.text.data_files import languages_in, read_data_file
from server.text.numbers import NumberFormat, format_number
from server.text.wording import WordingError, WordingFolder

THIN_NO_BREAK_SPACE = "\u202f"


@pytest.mark.parametrize(
    ("value", "english", "spanish"),
    [
        (5, "5", "5"),
        (1500, "1,500", "1500"),  # RAE: four digits are never grouped
        (12000, "12,000", f"12{THIN_NO_BREAK_SPACE}000"),
        (1234567, "1,234,567", f"1{THIN_NO_BREAK_SPACE}234{THIN_NO_BREAK_SPACE}567"),
        (2.5, "2.5", "2.5"),  # RAE recommends the point as the decimal mark
        (-1500, "-1,500", "-1500"),
    ],
)
def test_numbers_are_written_the_languages_way(value, english, spanish):
    assert format_number(value, "en") == english == f"{value:,}"
    assert format_number(value, "es") == spanish
    assert format_number(value, "de") == english  # no file: English


def test_a_number_format_file_is_checked():
    with pytest.raises(ValueError, match="group_from_digits"):
        NumberFormat(group_separator=",", group_from_digits=2, decimal_mark=".")


def _folder(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


class _BrokenFile(RuntimeError):
    pass


def test_a_data_file_that_is_unreadable_or_of_the_wrong_shape_names_itself(tmp_path):
    folder = _folder(tmp_path, {"en.yaml": "a: 1\n", "xx.yaml": "[unclosed", "notes.txt": ""})
    assert languages_in(folder) == {"en", "xx"}
    shape = TypeAdapter(dict[str, int])
    assert read_data_file(folder / "en.yaml", shape, _BrokenFile) == {"a": 1}
    for name in ("xx.yaml", "missing.yaml"):
        with pytest.raises(_BrokenFile, match=re.escape(name)):
            read_data_file(folder / name, shape, _BrokenFile)
    with pytest.raises(_BrokenFile, match=r"en\.yaml"):
        read_data_file(folder / "en.yaml", TypeAdapter(dict[str, str]), _BrokenFile)


def test_wording_groups_numbers_and_is_checked_against_english(tmp_path):
    folder = _folder(
        tmp_path,
        {
            "en.yaml": "gap: '{count:,} missing'\n",
            "es.yaml": "gap: 'faltan {count:,}'\n",
            "fr.yaml": "écart: '{count:,} manquants'\n",
        },
    )
    wording = WordingFolder(lambda: folder)
    assert wording.load("en").say("gap", count=1443) == "1,443 missing"
    assert wording.load("es").say("gap", count=1443) == "faltan 1443"
    assert wording.for_language("pt").language == "en"
    with pytest.raises(WordingError, match="names differ"):
        wording.load("fr")
