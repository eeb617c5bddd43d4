"""What the browser needs to show and edit steps, from the step types' registry: the
schema the step editor renders, the lists its fields choose from, the names of the types
and a step in one line. Nothing here knows a step type by name."""

from __future__ import annotations

from campaigns.models import Campaign
from campaigns.steps import step_types
from messaging.models import EmailTemplate


def step_type_names() -> dict[str, str]:
    return {kind.type: kind.label for kind in step_types().values()}


def step_options(*, campaign: Campaign | None) -> dict:
    """The step editor's options: every type's schema and the defaults of a new step, the
    lists the fields choose from, and the rule builder's catalog for conditions."""
    from segments.selectors import builder_catalog

    types = step_types().values()
    options: dict = {"rules": builder_catalog()}
    for kind in types:
        options.update(kind.choices(campaign=campaign))
    options["types"] = [[kind.type, kind.label] for kind in types]
    options["schemas"] = {kind.type: {**kind.schema(), "defaults": kind.defaults(options)} for kind in types}
    return options


def steps_described(steps: list[dict]) -> dict[str, str]:
    """Each step in one line, by its key."""
    named = [step["template"] for step in steps if step.get("template")]
    names = {"templates": dict(EmailTemplate.objects.filter(slug__in=named).values_list("slug", "name"))}
    types = step_types()
    described = {}
    for step in steps:
        kind = types.get(step.get("type"))
        described[step["key"]] = kind.describe(step, names) if kind is not None else ""
    return described
