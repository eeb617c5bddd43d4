"""The journey's drawing: layout as pure functions of the steps, and the SVG made of it."""

import re

import pytest

from campaigns.journey_graph import ENTRY, layout
from campaigns.journey_svg import render

WEBINAR = [
    {"key": "confirm", "type": "send_email", "template": "webinar-confirm"},
    {"key": "came", "type": "wait_for_event", "kinds": ["webinar_attended"], "days": 2,
     "yes": "thanks", "no": "replay"},
    {"key": "thanks", "type": "send_email", "subject": "Thanks", "body": "x", "next": "hot"},
    {"key": "replay", "type": "send_email", "subject": "The replay", "body": "x"},
    {"key": "hot", "type": "branch", "conditions": {}, "yes": "route", "no": ""},
    {"key": "route", "type": "assign_owner"},
]  # fmt: skip


def edges_of(graph):
    return {(edge.source, edge.target, edge.label) for edge in graph.edges}


def target_kind(graph, edge):
    return graph.nodes[edge.target].kind


def test_every_step_gets_one_node_below_the_entry():
    graph = layout(WEBINAR)

    assert [node.id for node in graph.steps()] == [step["key"] for step in WEBINAR]
    assert graph.nodes[ENTRY].layer == 0
    assert all(node.layer >= 1 for node in graph.steps())
    assert (ENTRY, "confirm", "") in edges_of(graph)


def test_a_branch_has_two_edges_labelled_yes_and_no():
    graph = layout(WEBINAR)

    leaving = [edge for edge in graph.edges if edge.source == "hot"]
    assert sorted(edge.label for edge in leaving) == ["no", "yes"]
    (yes,) = [edge for edge in leaving if edge.label == "yes"]
    (no,) = [edge for edge in leaving if edge.label == "no"]
    assert yes.target == "route"
    assert target_kind(graph, no) == "end"  # "no" ends the journey: drawn as its own end


def test_a_wait_for_an_event_has_its_two_exits_and_a_split_its_percentages():
    steps = [
        *WEBINAR[:2],
        {"key": "thanks", "type": "random_split",
         "paths": [{"percent": 70, "next": "replay"}, {"percent": 30, "next": ""}]},
        WEBINAR[3],
    ]  # fmt: skip
    graph = layout(steps)

    assert {("came", "thanks", "event came"), ("came", "replay", "timed out")} <= edges_of(graph)
    split = [edge for edge in graph.edges if edge.source == "thanks"]
    assert [(edge.label, target_kind(graph, edge)) for edge in split] == [("70%", "step"), ("30%", "end")]


def test_a_step_goes_to_its_next_else_to_the_one_below_and_the_last_ends():
    graph = layout(WEBINAR)

    assert ("thanks", "hot", "") in edges_of(graph)
    assert ("replay", "hot", "") in edges_of(graph)  # the one below it
    (last,) = [edge for edge in graph.edges if edge.source == "route"]
    assert target_kind(graph, last) == "end"


def test_a_loop_back_is_drawn_up_the_side_and_every_step_sits_below_what_leads_to_it():
    steps = [
        {"key": "mail", "type": "send_email", "subject": "Hi", "body": "x"},
        {"key": "click", "type": "wait_for_event", "kinds": ["email_click"], "days": 3,
         "yes": "done", "no": "mail"},
        {"key": "done", "type": "add_tag", "tags": ["clicked"]},
    ]  # fmt: skip
    graph = layout(steps)

    (loop,) = [edge for edge in graph.edges if edge.back]
    assert (loop.source, loop.target, loop.label) == ("click", "mail", "timed out")
    for edge in graph.edges:
        if not edge.back:
            assert graph.nodes[edge.target].layer > graph.nodes[edge.source].layer
            assert graph.nodes[edge.target].y > graph.nodes[edge.source].y
    lane = loop.points[1][0]
    assert lane > max(node.x + node.width for node in graph.steps())  # clear of the steps


def test_a_step_that_loops_to_itself_and_a_ring_of_steps_do_not_hang():
    ring = [{"key": f"s{n}", "type": "wait", "days": 1, "next": f"s{(n + 1) % 40}"} for n in range(40)]
    ring.append({"key": "self", "type": "wait_for_event", "kinds": ["x"], "days": 1,
                 "yes": "self", "no": "self"})  # fmt: skip

    graph = layout(ring)

    assert len(graph.steps()) == 41
    assert sum(edge.back for edge in graph.edges) == 3  # s39 -> s0, and both exits of "self"
    assert graph.nodes["s39"].layer == 40


def test_no_two_steps_overlap_in_a_long_journey_with_branches():
    steps = [{"key": f"s{index}", "type": "add_tag", "tags": ["t"]} for index in range(24)]
    steps[3] = {"key": "s3", "type": "branch", "conditions": {}, "yes": "s4", "no": "s10"}
    steps[8] = {"key": "s8", "type": "random_split",
                "paths": [{"percent": 50, "next": "s9"}, {"percent": 50, "next": "s20"}]}  # fmt: skip

    graph = layout(steps)

    boxes = [(node.x, node.y, node.x + node.width, node.y + node.height) for node in graph.nodes.values()]
    for index, (left, top, right, bottom) in enumerate(boxes):
        for other in boxes[index + 1 :]:
            apart = right <= other[0] or other[2] <= left or bottom <= other[1] or other[3] <= top
            assert apart, (left, top, right, bottom, other)
    assert all(node.x >= 0 and node.x + node.width <= graph.width for node in graph.nodes.values())


def test_a_step_nothing_leads_to_is_drawn_and_marked_not_reached():
    steps = [
        {"key": "a", "type": "exit"},
        {"key": "lost", "type": "add_tag", "tags": ["t"]},
        {"key": "after-lost", "type": "wait", "days": 1, "next": "a"},
    ]

    graph = layout(steps)

    assert graph.nodes["a"].reached and not graph.nodes["lost"].reached
    assert not graph.nodes["after-lost"].reached  # only a step nothing leads to leads here
    assert [edge for edge in graph.edges if edge.source == "a"] == []  # an exit step has no way out
    assert "(not reached)" in render(graph, names={}, details={}, counts={}, entry=["by hand"])


def test_the_svg_draws_a_node_per_step_with_its_counts_and_an_edge_per_exit():
    graph = layout(WEBINAR)
    counts = {"hot": {"entered": 1200, "waiting": 0, "completed": 1100, "failed": 3,
                      "came": 1000, "goal": 250}}  # fmt: skip

    goal = {"sentence": "Demo", "entered": 9, "reached": 1}
    svg = render(graph, names={"branch": "Branch"}, details={"hot": "if hot"}, counts=counts,
                 entry=["when: touchpoint webinar_registered"], goal=goal)  # fmt: skip

    assert svg.count('class="jg-node jg-step') == len(WEBINAR)
    assert svg.count('<path class="jg-edge') == len(graph.edges)
    hot = re.search(r'<g class="jg-node jg-step jg-branch" data-step="hot".*?</g>', svg).group(0)
    assert ">1,200</text>" in hot and ">failed</text>" in hot and ">25%</text>" in hot
    assert 'data-step="entry"' in svg and "webinar_registered" in svg


@pytest.mark.parametrize(
    "hostile",
    ['<script>alert("x")</script>', '" onload="alert(1)', "</text></svg><img src=x onerror=alert(1)>"],
)
def test_whatever_a_person_typed_is_escaped_in_the_svg(hostile):
    steps = [
        {"key": hostile, "type": "send_email", "template": hostile, "label": hostile},
        {"key": "b", "type": "random_split", "paths": [{"percent": hostile, "next": ""}]},
    ]
    graph = layout(steps)

    svg = render(graph, names={"send_email": hostile}, details={hostile: hostile}, counts={},
                 entry=[hostile], goal={"sentence": hostile, "entered": 0, "reached": 0})  # fmt: skip

    assert hostile not in svg
    assert "<script" not in svg and "<img" not in svg and 'onload="' not in svg
    assert "&lt;" in svg or "&quot;" in svg
