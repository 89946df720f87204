"""Text > Translation: Marian pairs, T5 prefixes, and multilingual models with language codes."""

from __future__ import annotations

from typing import Any

import gradio as gr

from components.context import TabContext, TaskUI
from components.widgets import info_line

EXAMPLES = [
    {"text": "The weather is lovely today, so we are going for a walk in the park."},
    {"text": "Where is the nearest train station?"},
    {"text": "Machine translation has improved a lot in the last ten years."},
]
HELP = {
    "marian": "This model translates one fixed language pair.",
    "t5": "T5 is told the pair in a prefix: translate English to German, French or Romanian.",
    "multilingual": "Pick the source and target language codes this model knows.",
}


def language_values(facts: dict[str, Any]) -> tuple[list[str], str, list[str], str, str]:
    """Source choices and value, target choices and value, and a help line, from a model's facts
    ({kind, sources, targets, src_lang, tgt_lang}; empty for an unknown model).

    Values are "" (not None) when unknown: the adapter reads "" as "the model's own languages".
    """
    if not facts:
        return [], "", [], "", ""
    return (
        list(facts["sources"]),
        facts["src_lang"] or "",
        list(facts["targets"]),
        facts["tgt_lang"] or "",
        HELP.get(facts["kind"], ""),
    )


def language_updates(facts: dict[str, Any]) -> tuple[gr.Dropdown, gr.Dropdown, str]:
    sources, src, targets, tgt, help_text = language_values(facts)
    return gr.Dropdown(choices=sources, value=src), gr.Dropdown(choices=targets, value=tgt), help_text


def language_dropdown(ui: TaskUI, name: str, choices: list[str], value: str) -> gr.Dropdown:
    """The src_lang / tgt_lang dropdown: its choices are the model's languages, not the spec's."""
    param = ui.spec[name]
    dropdown = gr.Dropdown(
        choices=choices,
        value=value,
        label=param.title,
        info=info_line(param),
        allow_custom_value=True,  # the adapter checks it against the model's languages
        filterable=True,
    )
    return ui.bind(name, dropdown)


def build(ctx: TabContext) -> None:
    ui = ctx.task_ui("translation")
    # From models.yaml alone: building the page reads no tokenizer.
    facts = ctx.studio.facts("translation", ui.model.value, read_tokenizer=False)
    sources, src, targets, tgt, help_text = language_values(facts)
    with gr.Row():
        with gr.Column():
            ui.input("text", info=None)
            help_line = gr.Markdown(help_text, elem_classes=["translation-help"])
            with gr.Row():
                src_lang = language_dropdown(ui, "src_lang", sources, src)
                tgt_lang = language_dropdown(ui, "tgt_lang", targets, tgt)
            ui.input("max_new_tokens")
            ui.run_button("Translate")
        with gr.Column():
            translated = gr.Textbox(label="Translation", lines=5, interactive=False, elem_classes=["translation"])
            ui.raw_output()
    ui.finish(
        outputs=[translated],
        to_outputs=lambda result: [result.output[0]["translation_text"]],
        examples=EXAMPLES,
    )
    # On page load and when the model changes: multilingual models list the codes of their tokenizer.
    gr.on(
        triggers=None,
        fn=lambda model_id: language_updates(ctx.studio.facts("translation", model_id)),
        inputs=[ui.model],
        outputs=[src_lang, tgt_lang, help_line],
        api_visibility="undocumented",
        show_progress="hidden",
    )
