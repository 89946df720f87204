"""Sanity checks for the bundled instruction set (data/instructions/*.jsonl).

Run: python data/check_instructions.py
Asserts: every line is one JSON object with exactly the keys "prompt" and "response", both
non-empty strings within the length bounds; at least 220 training rows and exactly 30 test
rows; no prompt twice within or across the splits (case/whitespace-insensitive); no test
prompt with word-level Jaccard similarity >= 0.6 to a training prompt; and variety: distinct
first three words of prompts / rows >= 0.8 (few rows of any one pattern), and no opening
shared by more than 6 prompts.
"""

import json
import re
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent / "instructions"
KEYS = {"prompt", "response"}
MIN_TRAIN, TEST_ROWS = 220, 30
PROMPT_CHARS = (3, 400)
RESPONSE_CHARS = (1, 600)
JACCARD_MAX = 0.6
VARIETY_MIN = 0.8
SAME_OPENING_MAX = 6


def load(split):
    rows = []
    with open(HERE / f"{split}.jsonl", encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            where = f"{split}.jsonl line {number}"
            assert line.strip(), f"{where}: empty line"
            row = json.loads(line)
            assert isinstance(row, dict) and set(row) == KEYS, f"{where}: keys must be exactly {sorted(KEYS)}"
            for key, (low, high) in (("prompt", PROMPT_CHARS), ("response", RESPONSE_CHARS)):
                value = row[key]
                assert isinstance(value, str) and value.strip(), f"{where}: {key} must be a non-empty string"
                assert value == value.strip(), f"{where}: {key} has leading or trailing whitespace"
                assert low <= len(value) <= high, f"{where}: {key} has {len(value)} characters, not {low}-{high}"
            rows.append(row)
    return rows


def norm(text):
    return " ".join(text.lower().split())


def words(text):
    return re.findall(r"[\w']+", text.lower())


def opening(prompt):
    return " ".join(words(prompt)[:3])


def jaccard(a, b):
    return len(a & b) / len(a | b) if a | b else 1.0


def main():
    train, test = load("train"), load("test")
    print(f"train: {len(train)} rows, test: {len(test)} rows, total: {len(train) + len(test)}")
    assert len(train) >= MIN_TRAIN, f"only {len(train)} training rows, need >= {MIN_TRAIN}"
    assert len(test) == TEST_ROWS, f"{len(test)} test rows, need {TEST_ROWS}"

    prompts = Counter(norm(r["prompt"]) for r in train + test)
    dup = [p for p, c in prompts.items() if c > 1]
    assert not dup, f"prompts used twice (within or across splits): {dup[:5]}"

    train_words = [(r["prompt"], set(words(r["prompt"]))) for r in train]
    worst = (0.0, "", "")
    for r in test:
        tw = set(words(r["prompt"]))
        for text, ww in train_words:
            j = jaccard(tw, ww)
            if j > worst[0]:
                worst = (j, r["prompt"], text)
    print(f"max test/train prompt Jaccard: {worst[0]:.2f} ({worst[1]!r} ~ {worst[2]!r})")
    assert worst[0] < JACCARD_MAX, f"a test prompt is a near copy of a training prompt (Jaccard >= {JACCARD_MAX})"

    rows = train + test
    openings = Counter(opening(r["prompt"]) for r in rows)
    variety = len(openings) / len(rows)
    common = openings.most_common(5)
    print(f"variety: {len(openings)} distinct prompt openings (first three words) / {len(rows)} rows = {variety:.2f}")
    print(f"most common openings: {common}")
    assert variety >= VARIETY_MIN, f"variety {variety:.2f} < {VARIETY_MIN}: too many prompts start alike"
    assert common[0][1] <= SAME_OPENING_MAX, f"{common[0][1]} prompts open with {common[0][0]!r}"

    for name, key in (("prompt", "prompt"), ("response", "response")):
        lengths = [len(words(r[key])) for r in rows]
        print(f"words per {name}: min {min(lengths)}, max {max(lengths)}, mean {sum(lengths) / len(lengths):.1f}")
    print("OK")


if __name__ == "__main__":
    sys.exit(main())
