"""The training log made readable: escape codes and carriage returns gone, transformers' load
report said in one line."""

from __future__ import annotations

from studio.training.loadreport import describe_loading, readable


def test_log_text_is_readable_and_the_load_report_is_one_line() -> None:
    assert readable("\x1b[1mBert LOAD REPORT\x1b[0m from: x\nsaving  10%\rsaving 100%\r\nnext") == (
        "Bert LOAD REPORT from: x\nsaving 100%\nnext"
    )
    masked_lm = {
        "missing_keys": {"classifier.weight", "classifier.bias", "bert.pooler.dense.weight"},
        "unexpected_keys": {"cls.predictions.bias", "cls.predictions.transform.dense.weight"},
        "mismatched_keys": set(),
    }
    line = describe_loading(masked_lm, "bert", 3)
    assert line == (
        "loading the base model: the new head for your 3 labels (bert.pooler.dense.weight, classifier.bias, "
        "classifier.weight) starts from random weights, as expected: this run trains it; 2 weights of the base "
        "model's own head are not used (cls.predictions.bias, cls.predictions.transform.dense.weight)."
    )
    resized = {"mismatched_keys": {("classifier.weight", (2, 32), (3, 32))}}
    assert "the new head for your 3 labels (classifier.weight)" in describe_loading(resized, "bert", 3)
    broken = {"missing_keys": {f"bert.encoder.layer.{i}.attention.self.query.weight" for i in range(4)}}
    assert "4 weights of the base model itself were not in its checkpoint (bert.encoder.layer.*.attention" in (
        describe_loading(broken, "bert", 2)
    )
    assert describe_loading({"missing_keys": set(), "unexpected_keys": set()}, "bert", 2) is None
