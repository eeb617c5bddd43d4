from __future__ import annotations

import hashlib

from campaigns.steps import step_type_register
from campaigns.steps.base import Computing, Field, Outcome


def split_bucket(*, contact_id: int, step_key: str) -> int:
    """0-99, the same for a contact at a step every time: a split never reshuffles anyone."""
    digest = hashlib.sha256(f"{contact_id}:{step_key}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 100


@step_type_register
class RandomSplit(Computing):
    type = "random_split"
    label = "Random split"
    category = "branch"
    position = 60
    key_base = "split"
    fields = (Field("", "words", label="Each contact takes one path, the same one every time."),)
    exits = "paths"

    def defaults(self, options):
        return {"paths": [{"percent": 50, "next": ""}, {"percent": 50, "next": ""}]}

    def check(self, step, path, known):
        if "paths" not in step:
            return [(f"{path}.paths", "required")]
        paths = step["paths"]
        if not isinstance(paths, list) or len(paths) < 2:
            return [(f"{path}.paths", 'expected two or more paths, each {"percent": N, "next": key}')]
        errors = []
        for index, exit_ in enumerate(paths):
            where = f"{path}.paths[{index}]"
            if (
                not isinstance(exit_, dict)
                or not isinstance(exit_.get("percent"), int)
                or exit_["percent"] < 0
            ):
                errors.append((f"{where}.percent", "expected a whole percentage"))
        if not errors and sum(exit_["percent"] for exit_ in paths) != 100:
            errors.append((f"{path}.paths", "the percentages must add up to 100"))
        return errors

    def describe(self, step, names):
        return " / ".join(f"{path['percent']}%" for path in step["paths"])

    def exits_of(self, step):
        paths = step.get("paths") if isinstance(step.get("paths"), list) else []
        return [
            (f"{path.get('percent', '?')}%", path.get("next") or "")
            for path in paths
            if isinstance(path, dict)
        ]

    def run(self, step, run):
        bucket = split_bucket(contact_id=run.enrollment.contact_id, step_key=step["key"])
        floor = 0
        for index, path in enumerate(step["paths"]):
            floor += path["percent"]
            if bucket < floor:
                return Outcome(next=path.get("next") or "", detail={"path": index, "bucket": bucket})
        return Outcome(detail={"bucket": bucket})  # unreachable when the percentages add up to 100
