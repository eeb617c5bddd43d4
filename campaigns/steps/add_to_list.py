from __future__ import annotations

from campaigns.steps import step_type_register
from campaigns.steps.lists import ListStep


@step_type_register
class AddToList(ListStep):
    type = "add_to_list"
    label = "Add to a list"
    position = 120
    add = True
