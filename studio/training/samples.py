"""The datasets bundled in data/ (written for this project), by name: what each trains and its columns."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent.parent.parent / "data"


@dataclass(frozen=True)
class Sample:
    """A dataset bundled in data/ (written for this project)."""

    name: str
    task: str
    train: Path
    test: Path
    text_column: str
    label_column: str
    description: str


SAMPLES: dict[str, Sample] = {
    "sentiment": Sample(
        "sentiment",
        "text-classification",
        DATA_DIR / "sentiment" / "train.csv",
        DATA_DIR / "sentiment" / "test.csv",
        "text",
        "label",
        "English sentences, positive / negative (840 train, 192 test)",
    ),
    "ner": Sample(
        "ner",
        "token-classification",
        DATA_DIR / "ner" / "train.jsonl",
        DATA_DIR / "ner" / "test.jsonl",
        "tokens",
        "ner_tags",
        "English named entities PER / LOC / ORG in IOB2 (205 train, 50 test sentences)",
    ),
}
SAMPLES["instructions"] = Sample(
    "instructions",
    "text-generation",
    DATA_DIR / "instructions" / "train.jsonl",
    DATA_DIR / "instructions" / "test.jsonl",
    "prompt",
    "response",
    "English instructions and answers about this app and general topics (prompt / response pairs)",
)
