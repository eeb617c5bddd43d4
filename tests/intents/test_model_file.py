"""The sentence-embedding model file is run only when it is the file that was vetted."""

import shutil

import pytest

from intents.learning import embedding
from intents.learning.classifier import SentenceEmbedding


def _installed_file():
    return embedding.model_file(embedding.ModelSource(path=None, sha256=embedding.MODEL_SHA256))


def test_the_installed_model_file_is_the_vetted_one():
    path = _installed_file()
    assert embedding.sha256_of(path) == embedding.MODEL_SHA256


def test_a_model_file_with_another_hash_is_refused_with_the_file_and_both_hashes(settings, tmp_path):
    # given a file that is not the vetted model, named by the setting
    forged = tmp_path / "model.onnx"
    forged.write_bytes(b"\x08\x07 not the model anyone vetted")
    settings.INTENTS_EMBEDDING_MODEL = str(forged)

    # when the encoder is loaded, then it refuses it and says what, where and why
    with pytest.raises(embedding.ModelFileRefused) as refused:
        embedding.SentenceEncoder()
    message = str(refused.value)
    assert str(forged) in message
    assert embedding.MODEL_SHA256 in message
    assert embedding.sha256_of(forged) in message
    assert "INTENTS_EMBEDDING_MODEL" in message


def test_a_directory_with_a_copy_of_the_model_is_accepted(settings, tmp_path):
    shutil.copyfile(_installed_file(), tmp_path / "model.onnx")
    settings.INTENTS_EMBEDDING_MODEL = str(tmp_path)

    encoder = embedding.SentenceEncoder()

    assert encoder.encode(["cancel my plan"]).shape == (1, embedding.DIMENSIONS)
    assert embedding.model_name() == embedding.MODEL_NAME


def test_another_export_needs_its_own_hash_and_gets_its_own_name(settings, tmp_path):
    other = tmp_path / "model.onnx"
    shutil.copyfile(_installed_file(), other)
    with other.open("ab") as stream:  # an export whose bytes differ
        stream.write(b"\0")
    settings.INTENTS_EMBEDDING_MODEL = str(tmp_path)
    with pytest.raises(embedding.ModelFileRefused):
        embedding.SentenceEncoder()

    settings.INTENTS_EMBEDDING_MODEL_SHA256 = "not a hash"
    with pytest.raises(embedding.EmbeddingUnavailable, match="64 hexadecimal digits"):
        embedding.configured_source()

    settings.INTENTS_EMBEDDING_MODEL_SHA256 = embedding.sha256_of(other)
    assert embedding.model_file(embedding.configured_source()) == other
    assert embedding.model_name() != embedding.MODEL_NAME
    # and a version trained with the vetted model refuses to run with it
    trained = SentenceEmbedding()
    trained.model_ = embedding.MODEL_NAME
    with pytest.raises(embedding.EmbeddingUnavailable, match="train a new version"):
        trained.transform(["hello"])


def test_a_missing_model_file_says_where_it_was_looked_for(settings, tmp_path):
    settings.INTENTS_EMBEDDING_MODEL = str(tmp_path / "absent")
    with pytest.raises(embedding.EmbeddingUnavailable, match=r"missing: .*absent"):
        embedding.SentenceEncoder()
