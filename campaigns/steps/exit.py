from __future__ import annotations

from campaigns.steps import step_type_register
from campaigns.steps.base import Computing, Field, Outcome


@step_type_register
class Exit(Computing):
    type = "exit"
    label = "Exit"
    category = "exit"
    position = 900
    fields = (Field("", "words", label="The contact leaves the journey here."),)
    exits = "none"

    def run(self, step, run):
        return Outcome(exit=True)
