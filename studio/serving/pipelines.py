"""Pipelines with a batched forward: preprocess and postprocess in the caller's thread, the
forward shared with concurrent calls of the same settings (studio/serving/batching.py's Batcher).

    result = run_pipeline(loaded, text, top_k=2)   # what loaded.pipeline(text, top_k=2) returns

Sequences are padded on the right and each item's outputs cut back to its own length, so a
batched result equals the one-by-one result.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

from compat.transformers import is_chunk_pipeline, pipeline_parameters
from studio.serving.batching import batchers_of

# Model inputs that run along the sequence (padded on the right, cut back per item after the forward).
SEQUENCE_KEYS = frozenset(
    {"input_ids", "attention_mask", "token_type_ids", "special_tokens_mask", "offset_mapping", "p_mask"}
)
# Padding values by input name; input_ids take the tokenizer's pad id, audio the extractor's padding_value.
PAD_ONES = frozenset({"special_tokens_mask", "p_mask"})


def run_pipeline(loaded: Any, inputs: Any, **kwargs: Any) -> Any:
    """loaded.pipeline(inputs, **kwargs), with the forward batched with concurrent calls of
    the same settings: preprocess and postprocess run here, in the caller's thread."""
    pipe = loaded.pipeline
    batchers = batchers_of(loaded)
    if batchers is None or batchers.max_size <= 1:
        return pipe(inputs, **kwargs)
    preprocess, forward, postprocess = pipeline_parameters(pipe, kwargs)
    chunked = is_chunk_pipeline(pipe)  # one item per window / label, postprocessed together
    items = list(pipe.preprocess(inputs, **preprocess)) if chunked else [pipe.preprocess(inputs, **preprocess)]
    items = [dict(item) for item in items]
    key = ("pipeline", repr(sorted(kwargs.items(), key=lambda pair: pair[0])))
    batcher = batchers.get(key, lambda batch: forward_batch(pipe, batch, forward))
    outputs = batcher.run(items, [group_of(item) for item in items])
    if chunked:
        for output in outputs:
            output.pop("is_last", None)  # as the pipeline's own iterator does
        return pipe.postprocess(outputs, **postprocess)
    return pipe.postprocess(outputs[0], **postprocess)


def group_of(item: Mapping[str, Any]) -> Hashable:
    """Which items may share a batch: the same keys and tensor shapes, except the sequence
    length where an attention mask says which positions are padding. A model without one
    (e.g. wav2vec2 base, whose norm would see the padding) only batches inputs of one length."""
    masked = "attention_mask" in item
    shapes = []
    for key in sorted(item):
        shape = tuple(getattr(item[key], "shape", ()))
        shapes.append((key, shape[:1] + shape[2:] if masked and len(shape) >= 2 else shape))
    return tuple(shapes)


def forward_batch(pipe: Any, items: list[dict[str, Any]], forward_params: Mapping[str, Any]) -> list[Any]:
    """One pipe.forward over the items (padded on the right), split back into one output
    each, cut to the item's own length: what a forward of that item alone returns."""
    if len(items) == 1:
        return [pipe.forward(items[0], **forward_params)]
    lengths = [_length(item) for item in items]
    longest = max((length for length in lengths if length is not None), default=None)
    outputs = pipe.forward(collate(pipe, items), **forward_params)
    return [_take(outputs, index, lengths[index], longest) for index in range(len(items))]


def collate(pipe: Any, items: list[dict[str, Any]]) -> dict[str, Any]:
    """The items as one batch: tensors concatenated (sequences right-padded), others as lists."""
    import torch

    batch: dict[str, Any] = {}
    for key in items[0]:
        values = [item[key] for item in items]
        if not isinstance(values[0], torch.Tensor):
            batch[key] = values
        elif len({tuple(value.shape) for value in values}) == 1:
            batch[key] = torch.cat(values, dim=0)
        else:
            longest = max(value.shape[1] for value in values)
            padded = values[0].new_full((len(values), longest, *values[0].shape[2:]), _pad_value(pipe, key))
            for row, value in enumerate(values):
                padded[row, : value.shape[1]] = value[0]
            batch[key] = padded
    return batch


def _pad_value(pipe: Any, key: str) -> Any:
    if key == "input_ids":
        return getattr(getattr(pipe, "tokenizer", None), "pad_token_id", None) or 0
    if key in PAD_ONES:
        return 1
    if key in {"input_values", "input_features"}:
        return getattr(getattr(pipe, "feature_extractor", None), "padding_value", 0.0) or 0.0
    return 0


def _length(item: Mapping[str, Any]) -> int | None:
    for key in ("attention_mask", "input_ids"):
        shape: Sequence[int] = getattr(item.get(key), "shape", ())
        if len(shape) >= 2:
            return int(shape[1])
    return None


def _take(outputs: Any, index: int, length: int | None, padded: int | None) -> Any:
    """Item `index` of a batched forward's outputs, as a forward of it alone gives them."""
    import torch

    def one(key: str, value: Any) -> Any:
        if isinstance(value, torch.Tensor):
            row = value[index : index + 1]
            cut = length is not None and length != padded and value.ndim >= 2 and value.shape[1] == padded
            return row[:, :length] if cut and (key in SEQUENCE_KEYS or value.ndim >= 3) else row
        if isinstance(value, (list, tuple)):
            return value[index]
        return value

    taken = {key: one(key, value) for key, value in outputs.items()}
    return taken if type(outputs) is dict else type(outputs)(taken)  # pipe.forward gives dicts or ModelOutputs
