from __future__ import annotations

from campaigns.steps import step_type_register
from campaigns.steps.tags import TagStep


@step_type_register
class RemoveTag(TagStep):
    type = "remove_tag"
    label = "Remove tag"
    position = 160
    add = False
