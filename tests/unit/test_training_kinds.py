"""Fine-tuning the other kinds, the data checks: SQuAD's answers mapped to tokens, and an unsafe
zip refused (the runs that train them: tests/api/test_training_kinds.py)."""

from __future__ import annotations

import random
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from studio.errors import UserError
from studio.training import archives
from studio.training.kinds import question_answering
from tests.fixtures.training_data import QUESTION, colour_zip, qa_context


def test_squad_answers_map_to_token_positions_and_other_windows_point_at_cls(tiny: SimpleNamespace) -> None:
    from datasets import Dataset
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny.qa_bert)
    rng = random.Random(1)
    long_context = qa_context(rng, 150, "blue", at=140)
    rows = [
        {"question": QUESTION, "context": long_context, "answer": "blue", "answer_start": None},  # found by search
        {"question": QUESTION, "context": "the answer is not here", "answer": "", "answer_start": None},  # none
    ]
    table = Dataset.from_list(rows)
    assert question_answering.problems(table, "question", "answer") == []
    windows = question_answering.windows(question_answering.spans(table, "question", "answer"), tokenizer, 64)
    answered = [w for w in windows if w["start_positions"]]
    assert len(windows) >= 4 and len(answered) >= 1  # the long context spans several windows
    for window in answered:
        ids = window["input_ids"][window["start_positions"] : window["end_positions"] + 1]
        assert tokenizer.decode(ids) == "blue"
    assert all(w["start_positions"] == w["end_positions"] == 0 for w in windows if w not in answered)
    wrong = Dataset.from_list([{"question": QUESTION, "context": "red sky", "answer": "blue", "answer_start": 0}])
    assert question_answering.problems(wrong, "question", "answer") == [
        "1 row with an answer that is not in its context (row 1)"
    ]


def test_an_unsafe_or_empty_zip_is_refused_with_one_sentence(tmp_path: Path) -> None:
    escaping = tmp_path / "escaping.zip"
    with zipfile.ZipFile(escaping, "w") as archive:
        archive.writestr("red/../../etc/evil.png", b"x")
    with pytest.raises(UserError, match=r"names a file outside its own folder"):
        archives.listing(escaping)
    flat = tmp_path / "flat.zip"
    with zipfile.ZipFile(flat, "w") as archive:
        archive.writestr("picture.png", b"x")
    with pytest.raises(UserError, match="holds no images in class folders"):
        archives.listing(flat)
    listed = archives.listing(colour_zip(tmp_path / "ok.zip", per_class=2))
    assert sorted(listed["label"]) == ["blue", "blue", "red", "red"]
