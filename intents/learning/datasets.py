"""Labelled texts from a CSV file with the columns text,label."""

from __future__ import annotations

import csv
from pathlib import Path


class DatasetError(ValueError):
    pass


def read_labelled_csv(path: Path) -> tuple[list[str], list[str]]:
    try:
        stream = path.open(encoding="utf-8-sig", newline="")
    except OSError as error:
        raise DatasetError(f"{path}: cannot be read ({error.strerror})") from error
    texts, labels = [], []
    with stream:
        reader = csv.DictReader(stream)
        missing = {"text", "label"} - set(reader.fieldnames or [])
        if missing:
            raise DatasetError(
                f"{path}: no {' or '.join(sorted(missing))} column (the header must be text,label)"
            )
        for line, row in enumerate(reader, start=2):
            text, label = (row["text"] or "").strip(), (row["label"] or "").strip()
            if not text or not label:
                raise DatasetError(f"{path}, line {line}: {'text' if not text else 'label'} is empty")
            texts.append(text)
            labels.append(label)
    if not texts:
        raise DatasetError(f"{path}: no rows")
    return texts, labels
