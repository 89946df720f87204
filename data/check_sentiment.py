"""Sanity checks for the bundled sentiment dataset (data/sentiment/*.csv).

Run: python data/check_sentiment.py
Asserts: expected columns and labels, no empty text, no exact duplicates within
or across splits (case/whitespace-insensitive), no test sentence with word-level
Jaccard similarity >= 0.6 to any training sentence, equal positive/negative
counts in each split, and at least 700 rows in total.
"""

import csv
import re
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent / "sentiment"
LABELS = {"positive", "negative"}
JACCARD_MAX = 0.6
MIN_ROWS = 700


def load(split):
    with open(HERE / f"{split}.csv", newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == ["text", "label"], reader.fieldnames
        rows = list(reader)
    for i, r in enumerate(rows):
        assert r["text"].strip(), f"{split} row {i}: empty text"
        assert r["label"] in LABELS, f"{split} row {i}: bad label {r['label']!r}"
    return rows


def norm(text):
    return " ".join(text.lower().split())


def words(text):
    return set(re.findall(r"[a-z0-9]+(?:'[a-z]+)?", text.lower()))


def jaccard(a, b):
    return len(a & b) / len(a | b) if a | b else 1.0


def main():
    train, test = load("train"), load("test")
    total = len(train) + len(test)
    print(f"train: {len(train)} rows, test: {len(test)} rows, total: {total}")
    assert total >= MIN_ROWS, f"only {total} rows, need >= {MIN_ROWS}"

    for name, rows in (("train", train), ("test", test)):
        counts = Counter(r["label"] for r in rows)
        print(f"{name} labels: {dict(counts)}")
        assert counts["positive"] == counts["negative"], f"{name} unbalanced: {counts}"
        dup = [t for t, c in Counter(norm(r["text"]) for r in rows).items() if c > 1]
        assert not dup, f"{name} has exact duplicates: {dup[:5]}"

    train_norm = {norm(r["text"]) for r in train}
    cross = [r["text"] for r in test if norm(r["text"]) in train_norm]
    assert not cross, f"test sentences also in train: {cross[:5]}"

    train_words = [(r["text"], words(r["text"])) for r in train]
    near, worst = [], (0.0, "", "")
    for r in test:
        tw = words(r["text"])
        for text, ww in train_words:
            j = jaccard(tw, ww)
            if j > worst[0]:
                worst = (j, r["text"], text)
            if j >= JACCARD_MAX:
                near.append((round(j, 2), r["text"], text))
    for n in near[:20]:
        print("NEAR-COPY:", n)
    assert not near, f"{len(near)} test sentences have Jaccard >= {JACCARD_MAX} with train"
    print(f"max test/train Jaccard: {worst[0]:.2f} ({worst[1]!r} ~ {worst[2]!r})")

    lengths = [len(r["text"].split()) for r in train + test]
    print(f"words per sentence: min {min(lengths)}, max {max(lengths)}, mean {sum(lengths) / len(lengths):.1f}")
    print("OK")


if __name__ == "__main__":
    sys.exit(main())
