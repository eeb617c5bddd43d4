from __future__ import annotations

from campaigns.steps import step_type_register
from campaigns.steps.tags import TagStep


@step_type_register
class AddTag(TagStep):
    type = "add_tag"
    label = "Add tag"
    position = 150
    add = True
