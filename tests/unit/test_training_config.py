"""TrainingConfig: one declaration for the API's defaults, the widgets' spec and the checks,
with every bound refused in one sentence that names the parameter."""

from __future__ import annotations

import inspect
import json
from typing import Any

import pytest
from pydantic import BaseModel

from studio.errors import UserError
from studio.training.checks import checked
from studio.training.config import (
    API_FIELDS,
    PRECISIONS,
    Hyperparameters,
    TrainingConfig,
    training_spec,
)
from studio.training.kinds.table import TRAINING_TASKS

# /train_start's defaults as the API has always shown them.
API_DEFAULTS: dict[str, Any] = {
    "task": "text-classification",
    "model": None,
    "dataset": None,
    "sample": "",
    "text_column": "",
    "label_column": "",
    "num_train_epochs": 2.0,
    "per_device_train_batch_size": 16,
    "learning_rate": 5e-5,
    "warmup_ratio": 0.1,
    "weight_decay": 0.01,
    "gradient_accumulation_steps": 1,
    "seed": 42,
    "max_length": 128,
    "num_processes": 1,
    "precision": "no",
    "eval_each_epoch": True,
    "save_each_epoch": True,
    "load_best_model_at_end": False,
    "push_to_hub": False,
    "hub_model_id": "",
    "hub_token": "",
    # added later, after hub_token (and after admin_token in /train_start): older calls keep working
    "use_lora": False,
    "lora_r": 8,
    "lora_alpha": 16,
    "lora_dropout": 0.05,
    "lora_target_modules": "",
    "merge_adapter": True,
    # added with the hyperparameter search, last
    "search_trials": 0,
    "search_learning_rate_min": 1e-5,
    "search_learning_rate_max": 5e-4,
    "search_batch_sizes": "8,16,32",
    "search_epochs_min": 1,
    "search_epochs_max": 3,
    "search_objective": "metric",
}


def bounded_fields() -> list[tuple[type[BaseModel], str, float, float]]:
    """Every (model, field, low, high) declared with ge and le."""
    found = []
    for model in (Hyperparameters, TrainingConfig):
        for name, info in model.model_fields.items():
            low = next((rule.ge for rule in info.metadata if hasattr(rule, "ge")), None)
            high = next((rule.le for rule in info.metadata if hasattr(rule, "le")), None)
            if low is not None and high is not None:
                found.append((model, name, low, high))
    return found


def shown(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else f"{number:g}"


def test_spec_defaults_are_the_config_defaults_and_the_apis() -> None:
    spec = training_spec({"sentiment": "English sentences", "ner": "named entities"})
    assert spec.names == list(API_DEFAULTS)
    assert spec.defaults() == API_DEFAULTS
    config = TrainingConfig()
    for model, name in API_FIELDS:
        section = config.training if model is Hyperparameters else config
        if name not in ("sample", "train_file", "base_model", "hub_model_id"):  # API "" / None is stored as None
            assert getattr(section, name) == spec.defaults()[name], name


def test_the_api_signature_comes_from_the_spec() -> None:
    from components.finetune import handlers

    spec = training_spec({})
    for name in ("train_start", "train_command"):
        handler = handlers.bind(handlers.start, object(), name, spec)
        parameters = inspect.signature(handler).parameters
        assert {key: value.default for key, value in parameters.items()} == API_DEFAULTS
        assert handler.__name__ == name


def test_spec_params_carry_the_declared_bounds_and_choices() -> None:
    spec = training_spec({"sentiment": "English sentences"})
    for model, name, low, high in bounded_fields():
        if name in spec:
            assert (spec[name].low, spec[name].high) == (low, high), name
            integer = model.model_fields[name].annotation in (int, int | None)
            assert spec[name].kind == ("int" if integer else "float"), name
    assert spec["precision"].choices == PRECISIONS
    assert spec["task"].choices == TRAINING_TASKS
    assert spec["sample"].choices == ("", "sentiment")
    assert spec["sample"].choice_labels == ("none: upload a file", "sentiment: English sentences")
    assert spec["hub_token"].default == ""


@pytest.mark.parametrize(("model", "name", "low", "high"), bounded_fields(), ids=lambda v: str(v))
def test_every_bound_is_refused_in_one_sentence(model: type[BaseModel], name: str, low: float, high: float) -> None:
    def refuse(value: Any) -> str:
        with pytest.raises(UserError) as error:
            checked(model, {name: value})
        message = str(error.value)
        assert message.startswith(f"{name} must be between {shown(low)} and {shown(high)}; got "), message
        assert message.count(".") <= 3 and "\n" not in message, message
        return message

    integer = model.model_fields[name].annotation in (int, int | None)
    below = (low - 1 or -1) if integer else low - abs(low) / 2 - 0.001  # 0 means "unset" for the optional ones
    refuse(below)
    assert refuse(high * 2 + 1).endswith(f"got {shown(high * 2 + 1)}.")
    assert refuse("lots").endswith("got 'lots'.")
    assert checked(model, {name: low}) is not None and checked(model, {name: high}) is not None


def test_learning_rate_sentence() -> None:
    with pytest.raises(UserError, match=r"^learning_rate must be between 1e-08 and 1; got 5\.$"):
        checked(Hyperparameters, {"learning_rate": 5})


def test_choices_bools_and_whole_numbers_are_named_too() -> None:
    with pytest.raises(UserError, match=r"^precision must be one of no, fp16, bf16; got 'fp8'\.$"):
        checked(Hyperparameters, {"precision": "fp8"})
    with pytest.raises(UserError, match=r"^eval_each_epoch must be true or false; got 'maybe'\.$"):
        checked(Hyperparameters, {"eval_each_epoch": "maybe"})
    with pytest.raises(UserError, match=r"^seed must be a whole number between 0 and 2147483647; got 1\.5\.$"):
        checked(Hyperparameters, {"seed": 1.5})
    with pytest.raises(UserError, match=r"^task must be one of text-classification, token-classification"):
        checked(TrainingConfig, {"task": "object-detection"})
    with pytest.raises(UserError, match=r"^seed must be between 0 and 2147483647; got -1\.$"):
        checked(TrainingConfig, {"training": {"seed": -1}})


def test_run_time_limits_use_the_same_sentence() -> None:
    with pytest.raises(UserError, match=r"^num_processes must be between 1 and 4; got 8\.$"):
        checked(TrainingConfig, {"num_processes": 8}, highs={"num_processes": 4})
    with pytest.raises(UserError, match=r"^num_processes must be between 1 and 4; got 0\.$"):
        checked(TrainingConfig, {"num_processes": 0}, highs={"num_processes": 4})


def test_unset_values_keep_their_meaning() -> None:
    training = checked(Hyperparameters, {"precision": None, "logging_steps": 0, "max_train_samples": ""})
    assert training.precision == "no" and training.logging_steps is None and training.max_train_samples is None


def test_config_json_keeps_its_shape_and_reads_back() -> None:
    config = TrainingConfig(
        task="token-classification",
        base_model="tiny",
        model_path="/models/tiny",
        data={"sample": "ner", "name": "bundled ner set"},
        text_column="tokens",
        label_column="ner_tags",
        labels=["O", "B-PER"],
        training={"max_train_samples": 16},
        num_processes=2,
        launcher="torchrun",
    )
    written = config.as_json()
    assert list(written) == [
        "task",
        "base_model",
        "model_path",
        "data",
        "text_column",
        "label_column",
        "labels",
        "training",
        "num_processes",
        "launcher",
        "accelerate_config",
        "push_to_hub",
        "hub_model_id",
        "resume_from_checkpoint",
    ]
    assert written["data"] == {"sample": "ner", "name": "bundled ner set"}
    assert "logging_steps" not in written["training"] and written["training"]["max_train_samples"] == 16
    again = TrainingConfig.of(json.loads(json.dumps({"run_id": "x", **written, "created": 1.0})))
    assert again.as_json() == {"run_id": "x", **written, "created": 1.0}
    keys = list(again.as_json())
    assert (keys[0], keys[-1]) == ("run_id", "created")
