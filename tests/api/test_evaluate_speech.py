"""Insight > Evaluate on a file, speech recognition: /evaluate on a zip of audio files and a
table of transcripts gives jiwer's WER and CER on a direct transformers pipeline's transcripts
(the tiny CTC model), the rows whose transcript differs, and one sentence for a bad zip."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import soundfile
from gradio_client import handle_file
from gradio_client.exceptions import AppError

SPEECH = "automatic-speech-recognition"
RATE = 16_000


def sine_wav(frequency: float, seconds: float = 1.0) -> bytes:
    """A sine wave as a float WAV, so the app and the direct pipeline read the same samples."""
    t = np.arange(int(seconds * RATE)) / RATE
    buffer = io.BytesIO()
    soundfile.write(buffer, (0.3 * np.sin(2 * np.pi * frequency * t)).astype(np.float32), RATE, "FLOAT", format="WAV")
    return buffer.getvalue()


def make_zip(path: Path, members: dict[str, bytes | str]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return path


def evaluate(client, model: str, path: Path, files: str = "", texts: str = "") -> dict:
    return client.predict(SPEECH, model, handle_file(str(path)), files, texts, api_name="/evaluate")[-1]


def test_wer_and_cer_equal_jiwer_on_a_direct_pipeline(client, tiny: SimpleNamespace, tmp_path: Path) -> None:
    import jiwer
    from transformers import pipeline

    audio = {f"clip{number}.wav": sine_wav(frequency) for number, frequency in enumerate((220, 440, 880), start=1)}
    direct = pipeline(SPEECH, model=tiny.wav2vec2_ctc)
    heard = [
        direct({"raw": soundfile.read(io.BytesIO(data), dtype="float32")[0], "sampling_rate": RATE})["text"]
        for data in audio.values()
    ]
    # Row 1 says what the model hears, in other case and punctuation: no error once normalised.
    references = [heard[0].lower() + ".", "Hello, world!", "the cat sat on the mat"]
    table = "file_name,text\n" + "".join(f'{name},"{text}"\n' for name, text in zip(audio, references))
    table += "clip1.wav,\n"  # no transcript: skipped
    path = make_zip(
        tmp_path / "speech.zip", {"clips/metadata.csv": table, **{f"clips/{n}": d for n, d in audio.items()}}
    )

    result = evaluate(client, tiny.wav2vec2_ctc, path)  # columns guessed

    normalise = [jiwer.ToLowerCase(), jiwer.RemovePunctuation(), jiwer.RemoveMultipleSpaces(), jiwer.Strip()]
    words = jiwer.Compose([*normalise, jiwer.ReduceToListOfListOfWords()])
    characters = jiwer.Compose([*normalise, jiwer.ReduceToListOfListOfChars()])
    assert result["rows"] == 3 and result["skipped_rows"] == 1 and result["dataset"] == "speech.zip"
    assert result["wer"] == pytest.approx(
        jiwer.wer(references, heard, reference_transform=words, hypothesis_transform=words)
    )
    assert result["cer"] == pytest.approx(
        jiwer.cer(references, heard, reference_transform=characters, hypothesis_transform=characters)
    )
    assert result["wer"] > 0 and result["reference_words"] == 1 + 2 + 6
    assert result["mistake_count"] == 2
    assert [(m["row"], m["file"], m["expected"], m["predicted"]) for m in result["mistakes"]] == [
        (2, "clips/clip2.wav", references[1], heard[1]),
        (3, "clips/clip3.wav", references[2], heard[2]),
    ]
    for mistake, reference, transcript in zip(result["mistakes"], references[1:], heard[1:]):
        want = jiwer.wer(reference, transcript, reference_transform=words, hypothesis_transform=words)
        assert mistake["wer"] == pytest.approx(want)


@pytest.mark.parametrize(
    ("members", "expected"),
    [
        (None, r"bad\.zip is not a zip archive; upload a \.zip of audio files"),
        ({"../evil.wav": b"x", "metadata.csv": "file,text\nevil.wav,hi\n"}, r"holds '\.\./evil\.wav', a path outside"),
        ({"a.wav": sine_wav(440)}, r"bad\.zip holds no table; put one CSV"),
        ({"a.csv": "file,text\nmissing.wav,hi\n"}, r"Row 1 of a\.csv names 'missing\.wav', which is not in bad\.zip"),
        ({"a.csv": "file,text\n../a.csv,hi\n"}, r"Row 1 of a\.csv names '\.\./a\.csv', which is not in bad\.zip"),
        (
            {"a.csv": "name,words\na.wav,hi\n", "a.wav": sine_wav(440)},
            r"cannot be evaluated: column '', '' is missing \(the file has: name, words\)",
        ),
    ],
)
def test_a_bad_zip_gives_a_sentence(client, tiny: SimpleNamespace, tmp_path: Path, members, expected: str) -> None:
    path = tmp_path / "bad.zip"
    if members is None:
        path.write_text("file_name,text\n", encoding="utf-8")
    else:
        make_zip(path, members)
    with pytest.raises(AppError, match=expected) as caught:
        evaluate(client, tiny.wav2vec2_ctc, path)
    assert str(tmp_path) not in str(caught.value) and "/tmp" not in str(caught.value)  # no server path


def test_the_example_clips_evaluate_offline(tiny: SimpleNamespace) -> None:
    """The page's example (a zip of examples/audio and their transcripts) runs on a tiny model."""
    from studio.config import parse_config
    from studio.insight import Insight
    from studio.models.manager import ModelManager
    from studio.studio import Studio

    entry = {"id": tiny.wav2vec2_ctc, "source": "local", "label": "tiny ctc"}
    insight = Insight(Studio(parse_config({"tasks": {SPEECH: {"models": [entry]}}}), ModelManager()))
    path, task = insight.evaluate_sample("speech")
    assert task == SPEECH and insight.evaluate_columns(task, path)["label_column"] == "text"
    result = insight.evaluate(task, tiny.wav2vec2_ctc, path, None, None)
    assert result["rows"] == 4 and result["model"] == "tiny ctc" and result["wer"] > 0
    assert {mistake["file"] for mistake in result["mistakes"]} <= {"quick_brown_fox.wav", "welcome.wav"} | {
        "question.wav",
        "review.wav",
    }
