"""The laid-out journey (campaigns.journey_graph) as inline SVG. Every word on it is text,
so the type of a step, an exit's meaning and a failure read without colour; colours come
from the admin's own CSS variables (journey.css), so it follows light and dark mode.
Everything a person typed (keys, labels, subjects, template names) goes through escaping."""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from campaigns.journey_graph import Graph, Node
from campaigns.steps import step_type

COUNTS = (("entered", "entered"), ("waiting", "waiting"), ("completed", "done"), ("failed", "failed"))
# A step that sends a message also counts those whose fate is unknown (the provider may or
# may not have got it): neither done nor failed, waiting for a person to decide. Its box shows
# "waiting" only when some wait there, to leave room for the numbers.
MESSAGE_COUNTS = (*COUNTS, ("unknown", "unknown"))
MESSAGE_STATUSES = (
    ("sent", "sent"), ("pending", "waiting to go"), ("sending", "being sent"),
    ("suppressed", "held back by consent or the suppression list"), ("failed", "failed"),
    ("unknown", "of unknown fate"),
)  # fmt: skip
SANS_EM = 0.56  # a sans-serif character's mean width, in ems, to fit text in a box
MONO_EM = 0.62


def fit(text: str, width: float, size: float, em: float = SANS_EM) -> str:
    room = max(int(width / (size * em)), 4)
    return text if len(text) <= room else text[: room - 1].rstrip() + "…"


def render(
    graph: Graph,
    *,
    names: Mapping[str, str],
    details: Mapping[str, str],
    counts: Mapping[str, Mapping[str, int]],
    entry: list[str],
    goal: Mapping | None = None,
) -> SafeString:
    """names: step type -> its name; details: step key -> what it does; counts: step key ->
    entered, waiting, completed, failed, unknown (a send step's run whose message failed is
    failed, whose message's fate is unknown is unknown), messages (a send step's messages by
    status), and came, goal (the enrollments that came to it, and of those the ones whose
    contact the goal holds for);
    entry: how contacts come in; goal: {"sentence", "entered", "reached"} when there is one."""
    edges = format_html_join("", "{}", ((_edge(edge),) for edge in graph.edges))
    labels = format_html_join("", "{}", ((_edge_label(edge),) for edge in graph.edges if edge.label))
    parts = []
    for node in graph.nodes.values():
        if node.kind == "entry":
            parts.append(_entry(node, entry, goal))
        elif node.kind == "end":
            parts.append(_end(node))
        elif node.kind == "step":
            parts.append(_step(node, names, details, counts.get(node.id, {}), goal))
    steps = len(graph.steps())
    return format_html(
        '<svg class="journey-graph" xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
        'viewBox="0 0 {w} {h}" role="group" aria-label="{aria}">'
        '<defs><marker id="jg-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path class="jg-arrowhead" d="M0,0 L10,5 L0,10 z"/></marker></defs>'
        '<g class="jg-edges">{}</g><g class="jg-nodes">{}</g><g class="jg-labels">{}</g></svg>',
        edges,
        mark_safe("".join(parts)),  # noqa: S308 - each part was built by format_html
        labels,
        w=f"{graph.width:.0f}",
        h=f"{graph.height:.0f}",
        aria=f"The journey as a graph: {steps} steps, read from top to bottom",
    )


def _edge(edge) -> SafeString:
    return format_html(
        '<path class="jg-edge{}" d="{}" marker-end="url(#jg-arrow)" data-from="{}" data-to="{}"/>',
        " jg-back" if edge.back else "",
        edge.path,
        edge.source,
        edge.target,
    )


def _edge_label(edge) -> SafeString:
    x, y = edge.label_at
    width = len(edge.label) * 11 * SANS_EM + 12
    left = x if edge.back else x - width / 2
    return format_html(
        '<g class="jg-exit jg-exit-{}" data-from="{}" data-to="{}">'
        '<rect x="{}" y="{}" width="{}" height="16" rx="8"/>'
        '<text x="{}" y="{}" text-anchor="middle">{}</text></g>',
        {"yes": "yes", "no": "no", "event came": "yes", "timed out": "no"}.get(edge.label, "other"),
        edge.source, edge.target,
        f"{left:.1f}", f"{y - 11:.1f}", f"{width:.1f}", f"{left + width / 2:.1f}", f"{y + 1:.1f}", edge.label,
    )  # fmt: skip


def _box(node: Node, css: str, title: str, inner: SafeString, **data) -> SafeString:
    attributes = format_html_join("", ' data-{}="{}"', data.items())
    return format_html(
        # focusable, and named by the whole sentence: the box itself shows only what fits
        '<g class="jg-node {}"{} transform="translate({},{})" tabindex="0" role="img" aria-label="{}">'
        '<title>{}</title><rect class="jg-box" width="{}" height="{}" rx="8"/>{}</g>',
        css, attributes, f"{node.x:.1f}", f"{node.y:.1f}", title, title,
        f"{node.width:.0f}", f"{node.height:.0f}", inner,
    )  # fmt: skip


def _entry(node: Node, entry: list[str], goal: Mapping | None) -> SafeString:
    width = node.width - 24
    lines = entry[:2] if len(entry) <= 2 else [entry[0], f"and {len(entry) - 1} more ways in"]
    inner = format_html(
        '<text class="jg-type" x="12" y="20">Entry</text>{}',
        format_html_join(
            "",
            '<text class="jg-detail" x="12" y="{}">{}</text>',
            ((38 + 16 * index, fit(line, width, 11.5)) for index, line in enumerate(lines)),
        ),
    )
    title = "Contacts come in: " + "; ".join(entry)
    if goal:
        title += f". Goal: {goal['sentence']}"
    return _box(node, "jg-entry", title, inner, step="entry")


def _end(node: Node) -> SafeString:
    return format_html(
        '<g class="jg-node jg-end" transform="translate({},{})"><title>The journey ends here</title>'
        '<rect class="jg-box" width="{}" height="{}" rx="13"/>'
        '<text x="{}" y="17" text-anchor="middle">end</text></g>',
        f"{node.x:.1f}", f"{node.y:.1f}", f"{node.width:.0f}", f"{node.height:.0f}", f"{node.width / 2:.1f}",
    )  # fmt: skip


def _step(node: Node, names, details, row: Mapping[str, int], goal: Mapping | None) -> SafeString:
    step = node.step or {}
    kind = step.get("type", "")
    name = names.get(kind, kind)
    detail = details.get(node.id, "")
    width = node.width - 24
    heading = name if node.reached else f"{name} (not reached)"
    label = step.get("label") or ""
    who = f"{label} · {node.id}" if label else node.id
    registered = step_type(kind) if isinstance(kind, str) else None
    category = registered.category if registered is not None else "action"
    shown = MESSAGE_COUNTS if category == "message" else COUNTS
    cells = [
        (row.get(field, 0), text, field)
        for field, text in shown
        if field != "waiting" or category != "message" or row.get("waiting")
    ]
    if goal:
        entered = row.get("came", 0)
        reached = row.get("goal", 0)
        cells.append((f"{round(100 * reached / entered)}%" if entered else "none", "to goal", "goal"))
    cell = (node.width - 10) / len(cells)  # clear of the accent at the left
    numbers = format_html_join(
        "",
        '<text class="jg-count jg-count-{}" x="{}" y="78" text-anchor="middle">{}</text>'
        '<text class="jg-count-label" x="{}" y="90" text-anchor="middle">{}</text>',
        (
            (
                field + (" jg-nonzero" if isinstance(value, int) and value else ""),
                f"{8 + cell * (index + 0.5):.1f}", f"{value:,}" if isinstance(value, int) else value,
                f"{8 + cell * (index + 0.5):.1f}", text,
            )
            for index, (value, text, field) in enumerate(cells)
        ),
    )  # fmt: skip
    inner = format_html(
        '<rect class="jg-accent" width="5" height="{}" rx="2"/>'
        '<text class="jg-type" x="14" y="19">{}</text>'
        '<text class="jg-key" x="14" y="36">{}</text>'
        '<text class="jg-detail" x="14" y="52">{}</text>'
        '<line class="jg-rule" x1="0" x2="{}" y1="61" y2="61"/>{}',
        f"{node.height:.0f}",
        fit(heading, width, 13),
        fit(who, width, 12, MONO_EM),
        fit(detail, width, 11.5),
        f"{node.width:.0f}",
        numbers,
    )
    counted = ", ".join(f"{row.get(field, 0)} {text}" for field, text in shown)
    title = f"{name} “{who}”: {detail}. {counted}."
    messages = row.get("messages")
    if isinstance(messages, Mapping) and any(messages.values()):
        told = ", ".join(f"{messages[s]} {text}" for s, text in MESSAGE_STATUSES if messages.get(s))
        title += f" Its messages: {told}."
    if goal:
        entered = row.get("came", 0)
        title += f" {row.get('goal', 0)} of the {entered} who came here reach the goal now."
    css = f"jg-step jg-{category}{'' if node.reached else ' jg-unreached'}"
    return _box(node, css, title, inner, step=node.id, type=kind)
