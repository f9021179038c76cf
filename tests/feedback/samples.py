"""The sample submissions in ``fixtures/submissions``, and the thesis sentence of the essay
samples (what a scripted model quotes to back credit with the student's own words)."""

from __future__ import annotations

from pathlib import Path

SAMPLES = Path(__file__).resolve().parents[2] / "fixtures" / "submissions"
THESIS = "Schools should limit smartphones during class time"


def sample(name: str) -> str:
    return (SAMPLES / name).read_text()
