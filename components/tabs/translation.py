"""Text > Translation: Marian pairs, T5 prefixes, and multilingual models with language codes."""

from __future__ import annotations

import gradio as gr

from components.context import TabContext
from studio.adapters.text import Languages, languages_of, translation_languages
from studio.errors import UserError

EXAMPLES = [
    ["The weather is lovely today, so we are going for a walk in the park."],
    ["Where is the nearest train station?"],
    ["Machine translation has improved a lot in the last ten years."],
]
HELP = {
    "marian": "This model translates one fixed language pair.",
    "t5": "T5 is told the pair in a prefix: translate English to German, French or Romanian.",
    "multilingual": "Pick the source and target language codes this model knows.",
}


def language_values(languages: Languages | None) -> tuple[list[str], str, list[str], str, str]:
    """Source choices and value, target choices and value, and a help line, for a model.

    Values are "" (not None) when unknown: the API then treats them as optional, and the
    adapter reads "" as "the model's own languages".
    """
    if languages is None:
        return [], "", [], "", ""
    return (
        list(languages.sources),
        languages.src_lang or "",
        list(languages.targets),
        languages.tgt_lang or "",
        HELP.get(languages.kind, ""),
    )


def language_updates(languages: Languages | None) -> tuple[gr.Dropdown, gr.Dropdown, str]:
    sources, src, targets, tgt, help_text = language_values(languages)
    return gr.Dropdown(choices=sources, value=src), gr.Dropdown(choices=targets, value=tgt), help_text


def build(ctx: TabContext) -> None:
    ui = ctx.task_ui("translation")

    def languages_for(model_id: str | None, read_tokenizer: bool) -> Languages | None:
        try:
            entry = ctx.studio.entry("translation", model_id or "")
        except UserError:
            return None
        return languages_of(entry) if read_tokenizer else translation_languages(entry)

    sources, src, targets, tgt, help_text = language_values(languages_for(ui.model.value, read_tokenizer=False))
    with gr.Row():
        with gr.Column():
            text = gr.Textbox(label="Text", lines=5, placeholder="Type text to translate…")
            help_line = gr.Markdown(help_text, elem_classes=["translation-help"])
            with gr.Row():
                src_lang = gr.Dropdown(
                    choices=sources,
                    value=src,
                    label="src_lang",
                    info="Source language",
                    allow_custom_value=True,  # the adapter checks it against the model's languages
                    filterable=True,
                )
                tgt_lang = gr.Dropdown(
                    choices=targets,
                    value=tgt,
                    label="tgt_lang",
                    info="Target language",
                    allow_custom_value=True,
                    filterable=True,
                )
            max_new_tokens = gr.Slider(1, 512, value=128, step=1, label="max_new_tokens")
            ui.run_button("Translate")
        with gr.Column():
            translated = gr.Textbox(label="Translation", lines=5, interactive=False, elem_classes=["translation"])
            ui.raw_output()
    ui.finish(
        inputs=[text, src_lang, tgt_lang, max_new_tokens],
        outputs=[translated],
        to_outputs=lambda result: [result[0]["translation_text"]],
        examples=EXAMPLES,
    )
    # On page load and when the model changes: multilingual models list the codes of their tokenizer.
    gr.on(
        triggers=None,
        fn=lambda model_id: language_updates(languages_for(model_id, read_tokenizer=True)),
        inputs=[ui.model],
        outputs=[src_lang, tgt_lang, help_line],
        api_visibility="undocumented",
        show_progress="hidden",
    )
