"""Marketers' templates, rendered in a sandbox.

A template is Django template syntax run by an Engine of its own: no `{% load %}`, no
`{% include %}` or `{% extends %}`, no loaders, only the tags and filters listed in
`messaging.email.sandbox_library`. What it can read is plain dicts of chosen fields
(`contact`, `account`, `campaign`, and the links of the message), never model instances,
so no method, relation or setting is within reach. Loops have a budget of iterations and
the output a maximum size; going over either is an error that says where.

`template_check` finds mistakes at save time, each with its line and a sentence a
marketer understands.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.template import Context, Engine, NodeList
from django.template.base import FilterExpression, Node, TextNode, Variable
from django.template.defaulttags import ForNode, WithNode
from django.template.exceptions import TemplateSyntaxError

from messaging.email.sandbox_library import ALLOWED_FILTERS, ALLOWED_TAGS

MAX_SOURCE = 200_000  # characters of one template part
MAX_OUTPUT = 500_000  # characters of one rendered part
MAX_LOOP_ITERATIONS = 5_000  # iterations of every loop of one render together

CONTACT_FIELDS = (
    "email",
    "first_name",
    "last_name",
    "full_name",
    "job_title",
    "city",
    "country",
    "timezone",
    "lifecycle_stage",
    "score",
    "attributes",
)
ACCOUNT_FIELDS = ("name", "domain", "industry", "employees", "country", "attributes")
CAMPAIGN_FIELDS = ("name",)
ROOTS = {
    "contact": CONTACT_FIELDS,
    "account": ACCOUNT_FIELDS,
    "campaign": CAMPAIGN_FIELDS,
    "unsubscribe_url": None,
    "preferences_url": None,
}
LAYOUT_ROOTS = {**ROOTS, "content": None, "preheader": None, "subject": None}


class RenderError(ValueError):
    """A template that cannot be rendered: what is wrong, with its line when known."""

    def __init__(self, message: str, *, line: int | None = None):
        self.message = message
        self.line = line
        super().__init__(f"line {line}: {message}" if line else message)


@dataclass(frozen=True)
class Problem:
    line: int | None
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


class _Budget:
    def __init__(self) -> None:
        self.iterations = 0
        self.characters = 0


class _LoopBudget(Node):
    """Wraps the body of a `{% for %}`: each iteration spends from the render's budget."""

    child_nodelists = ("nodelist",)

    def __init__(self, loop: ForNode):
        self.nodelist = loop.nodelist_loop
        self.lineno = _line(loop)
        self.origin, self.token = loop.origin, loop.token  # where Django reports an error

    def render(self, context):
        budget = getattr(context, "sandbox_budget", None)
        if budget is not None:
            budget.iterations += 1
            if budget.iterations > MAX_LOOP_ITERATIONS:
                raise RenderError(
                    f"the loops repeat more than {MAX_LOOP_ITERATIONS:,} times in all; loop over less",
                    line=self.lineno,
                )
        text = self.nodelist.render(context)
        if budget is not None:
            budget.characters += len(text)
            if budget.characters > MAX_OUTPUT:
                raise RenderError(
                    f"the loop writes more than {MAX_OUTPUT:,} characters; the e-mail would be too long",
                    line=self.lineno,
                )
        return text


class SandboxEngine(Engine):
    default_builtins: list[str] = []

    def __init__(self):
        super().__init__(
            dirs=[],
            app_dirs=False,
            loaders=[("django.template.loaders.locmem.Loader", {})],
            libraries={},
            builtins=["messaging.email.sandbox_library"],
            debug=True,
            string_if_invalid="",
            autoescape=True,
        )


ENGINE = SandboxEngine()

_INVALID_TAG = re.compile(r"Invalid block tag on line \d+: '([^']+)'")
_INVALID_FILTER = re.compile(r"Invalid filter: '([^']+)'")


def _friendly(error: TemplateSyntaxError) -> Problem:
    info = getattr(error, "template_debug", None) or {}
    line = info.get("line")
    text = str(error)
    if match := _INVALID_TAG.search(text):
        name = match.group(1)
        if name in ("load", "include", "extends", "block", "ssi", "debug", "url", "csrf_token"):
            message = f"{{% {name} %}} is not available in e-mail templates"
        elif name.startswith("end") or name in ("else", "elif", "empty"):
            message = f"{{% {name} %}} has no opening tag before it"
        else:
            message = f"there is no tag {{% {name} %}}"
        return Problem(line, f"{message}; the tags you can use are: {', '.join(ALLOWED_TAGS)}")
    if match := _INVALID_FILTER.search(text):
        filters = ", ".join(ALLOWED_FILTERS)
        return Problem(line, f"there is no filter “{match.group(1)}”; the filters you can use are: {filters}")
    if "Unclosed tag" in text:
        tag = re.search(r"Unclosed tag on line \d+: '([^']+)'", text)
        name = tag.group(1) if tag else "a tag"
        return Problem(line, f"{{% {name} %}} is never closed; add {{% end{name} %}}")
    if "Could not parse the remainder" in text or "Could not parse some characters" in text:
        return Problem(line, f"this cannot be read: {text.split(':', 1)[-1].strip()}")
    if "Variables and attributes may not begin with underscores" in text:
        return Problem(line, "names beginning with an underscore cannot be read")
    return Problem(line, text)


def compile_template(source: str):
    """The template compiled by the sandbox engine, its loops on a budget; or RenderError."""
    if len(source) > MAX_SOURCE:
        raise RenderError(f"the template is longer than {MAX_SOURCE:,} characters")
    try:
        template = ENGINE.from_string(source)
    except TemplateSyntaxError as error:
        problem = _friendly(error)
        raise RenderError(problem.message, line=problem.line) from None
    except Exception as error:  # anything else the parser trips on is the template's fault too
        raise RenderError(f"this template cannot be read: {error}") from None
    for node in _nodes(template.nodelist):
        if isinstance(node, ForNode):
            node.nodelist_loop = NodeList([_LoopBudget(node)])
    # Text alone (a fixed preheader, a subject without names) is the same for everyone.
    static = all(isinstance(node, TextNode) for node in template.nodelist)
    template.sandbox_static = "".join(node.s for node in template.nodelist) if static else None
    return template


def _rendered(template, context: Context) -> str:
    if template.sandbox_static is not None:
        return template.sandbox_static
    context.sandbox_budget = _Budget()
    try:
        text = template.render(context)
    except RenderError:
        raise
    except Exception as error:  # a filter given a value it cannot take, e.g. a date filter on text
        raise RenderError(f"this template cannot be rendered: {error}") from None
    if len(text) > MAX_OUTPUT:
        raise RenderError(f"the result is longer than {MAX_OUTPUT:,} characters")
    return text


def render_compiled(template, data: dict[str, Any], *, autoescape: bool) -> str:
    return _rendered(template, Context(data, autoescape=autoescape))


class Renderer:
    """The parts of one e-mail rendered for one contact in one Context (made once, not per
    part); each part in a layer of its own, so nothing a part sets (`{% cycle ... as x %}`)
    reaches the next, and each with its own budget."""

    def __init__(self, data: dict[str, Any]):
        self.context = Context(data)

    def render(self, template, *, autoescape: bool, extra: dict[str, Any] | None = None) -> str:
        self.context.autoescape = autoescape
        with self.context.push(extra or {}):
            return _rendered(template, self.context)


def render(source: str, data: dict[str, Any], *, autoescape: bool) -> str:
    return render_compiled(compile_template(source), data, autoescape=autoescape)


# --- checking at save time -------------------------------------------------------------


def _line(node: Node) -> int | None:
    token = getattr(node, "token", None)
    return getattr(token, "lineno", None)


def _nodes(nodelist) -> list[Node]:
    found = []
    for node in nodelist:
        found.append(node)
        if hasattr(node, "conditions_nodelists"):  # {% if %} keeps its branches here
            for _, branch in node.conditions_nodelists:
                found.extend(_nodes(branch))
            continue
        for attribute in getattr(node, "child_nodelists", ()):
            child = getattr(node, attribute, None)
            if child:
                found.extend(_nodes(child))
    return found


def _expressions(value: Any, depth: int = 0):
    """Every variable a node reads, wherever the node keeps it."""
    if depth > 8:
        return
    if isinstance(value, Variable):
        yield value
    elif isinstance(value, FilterExpression):
        if isinstance(value.var, Variable):
            yield value.var
        for _, arguments in value.filters:
            for _, argument in arguments:
                if isinstance(argument, Variable):
                    yield argument
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _expressions(item, depth + 1)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _expressions(item, depth + 1)
    elif hasattr(value, "__dict__") and not isinstance(value, (Node, NodeList, type)):
        # {% if %} conditions: operator objects holding their operands
        for name in ("value", "first", "second"):
            if hasattr(value, name):
                yield from _expressions(getattr(value, name), depth + 1)


def _declared_names(nodes: list[Node]) -> set[str]:
    names = {"forloop"}
    for node in nodes:
        if isinstance(node, ForNode):
            names.update(node.loopvars)
        elif isinstance(node, WithNode):
            names.update(node.extra_context)
        elif getattr(node, "variable_name", None):  # {% cycle ... as name %}, {% firstof ... as name %}
            names.add(node.variable_name)
    return names


def _variable_problems(template, roots: dict[str, tuple | None]) -> list[Problem]:
    nodes = _nodes(template.nodelist)
    declared = _declared_names(nodes)
    problems = []
    readable = ", ".join(roots)
    for node in nodes:
        skip = {"nodelist", "nodelist_loop", "nodelist_empty", "conditions_nodelists", "token", "origin"}
        attributes = {name: value for name, value in vars(node).items() if name not in skip}
        if hasattr(node, "conditions_nodelists"):
            attributes["conditions"] = [condition for condition, _ in node.conditions_nodelists]
        for variable in _expressions(attributes):
            if variable.lookups is None:  # a literal: "text" or 3
                continue
            root, *rest = variable.lookups
            where = "{{ " + variable.var + " }}"
            if root in declared:
                continue
            if root not in roots:
                problems.append(
                    Problem(_line(node), f"{where}: “{root}” cannot be read here; you can use {readable}")
                )
                continue
            fields = roots[root]
            if fields is None:
                if rest:
                    problems.append(Problem(_line(node), f"{where}: “{root}” has no fields"))
                continue
            if not rest:
                problems.append(
                    Problem(_line(node), f"{where}: name a field of the {root}, e.g. {root}.{fields[0]}")
                )
            elif rest[0] not in fields:
                problems.append(
                    Problem(
                        _line(node),
                        f"{where}: the {root} has no field “{rest[0]}”; its fields are {', '.join(fields)}",
                    )
                )
            elif rest[0] != "attributes" and len(rest) > 1:
                problems.append(Problem(_line(node), f"{where}: “{root}.{rest[0]}” has no fields"))
    return problems


def template_check(source: str, *, roots: dict[str, tuple | None] | None = None) -> list[Problem]:
    """Every problem of one template part, each with its line: syntax, what it reads, and a
    trial render on a sample contact (loops that go on too long, output too large)."""
    try:
        template = compile_template(source)
    except RenderError as error:
        return [Problem(error.line, error.message)]
    problems = _variable_problems(template, roots or ROOTS)
    if problems:
        return problems
    try:
        render_compiled(template, sample_context(), autoescape=True)
    except RenderError as error:
        return [Problem(error.line, error.message)]
    return []


# --- what a template can read ------------------------------------------------------------


def _scalars(attributes: Any) -> dict[str, Any]:
    """Custom attributes, only their plain values: text, numbers, yes/no."""
    if not isinstance(attributes, dict):
        return {}
    return {
        str(key): value
        for key, value in attributes.items()
        if isinstance(value, (str, int, float, bool)) and not str(key).startswith("_")
    }


def contact_data(values: dict[str, Any]) -> dict[str, Any]:
    """A contact as a template sees it, from a dict of its columns (a `.values()` row)."""
    first, last = values.get("first_name") or "", values.get("last_name") or ""
    data = {field: values.get(field) or "" for field in CONTACT_FIELDS if field not in ("full_name", "score")}
    data["full_name"] = f"{first} {last}".strip()
    data["score"] = values.get("score") or 0
    data["attributes"] = _scalars(values.get("attributes"))
    return data


def account_data(values: dict[str, Any] | None) -> dict[str, Any]:
    values = values or {}
    data = {field: values.get(field) or "" for field in ACCOUNT_FIELDS}
    data["employees"] = values.get("employees")
    data["attributes"] = _scalars(values.get("attributes"))
    return data


def sample_context() -> dict[str, Any]:
    return {
        "contact": contact_data(
            {
                "email": "ada.lovelace@analytical-engines.example.org",
                "first_name": "Ada",
                "last_name": "Lovelace",
                "job_title": "CTO",
                "city": "London",
                "country": "GB",
                "lifecycle_stage": "lead",
                "score": 40,
            }
        ),
        "account": account_data({"name": "Analytical Engines", "domain": "example.org", "employees": 40}),
        "campaign": {"name": "Sample campaign"},
        "unsubscribe_url": "https://example.org/unsubscribe",
        "preferences_url": "https://example.org/preferences",
        "content": "",
        "preheader": "",
        "subject": "",
    }
