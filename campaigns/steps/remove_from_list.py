from __future__ import annotations

from campaigns.steps import step_type_register
from campaigns.steps.lists import ListStep


@step_type_register
class RemoveFromList(ListStep):
    type = "remove_from_list"
    label = "Remove from a list"
    position = 130
    add = False
