"""Sanity checks for the bundled NER dataset (data/ner/*.jsonl).

Run: python data/check_ner.py
Asserts: each line is {"tokens": [...], "ner_tags": [...]} with non-empty
string tokens, equal lengths, tags from the IOB2 set, I-X only directly after
B-X or I-X, no duplicate sentence within a split and no sentence in both splits.
"""

import json
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent / "ner"
TAGS = {"O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG"}


def load(split):
    rows = []
    with open(HERE / f"{split}.jsonl", encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            where = f"{split}.jsonl line {n}"
            assert line.strip(), f"{where}: empty line"
            obj = json.loads(line)
            assert set(obj) == {"tokens", "ner_tags"}, f"{where}: keys {sorted(obj)}"
            toks, tags = obj["tokens"], obj["ner_tags"]
            assert toks, f"{where}: no tokens"
            assert len(toks) == len(tags), f"{where}: {len(toks)} tokens, {len(tags)} tags"
            for t in toks:
                assert isinstance(t, str) and t and not any(c.isspace() for c in t), f"{where}: bad token {t!r}"
            prev = "O"
            for i, tag in enumerate(tags):
                assert tag in TAGS, f"{where}: unknown tag {tag!r}"
                if tag.startswith("I-"):
                    assert prev[2:] == tag[2:] and prev != "O", (
                        f"{where}: {tag} at token {i} ({toks[i]!r}) follows {prev}"
                    )
                prev = tag
            rows.append((toks, tags))
    return rows


def entities(tags):
    return sum(t.startswith("B-") for t in tags)


def main():
    splits = {s: load(s) for s in ("train", "test")}
    keys = {}
    for s, rows in splits.items():
        sents = [" ".join(t).lower() for t, _ in rows]
        dup = [k for k, c in Counter(sents).items() if c > 1]
        assert not dup, f"{s}: duplicate sentences {dup[:3]}"
        keys[s] = set(sents)
        counts = Counter(t[2:] for _, tags in rows for t in tags if t.startswith("B-"))
        ntok = sum(len(t) for t, _ in rows)
        print(f"{s}: {len(rows)} sentences, {ntok} tokens, entities {dict(sorted(counts.items()))}")
    both = keys["train"] & keys["test"]
    assert not both, f"sentences in both splits: {sorted(both)[:3]}"
    print("OK")


if __name__ == "__main__":
    sys.exit(main())
