"""A journey laid out as a graph a person reads from top to bottom: the entry, then the
steps in layers, an edge for every exit. Pure functions over the steps' data, so the page
needs no script to draw it and the layout can be tested on its own.

Layers are the longest path from the entry once the edges that loop back are set aside
(a wait for an event that times out back to an earlier e-mail, say); those are drawn up
the right-hand side instead. An edge that skips layers passes through a point in each
layer it crosses, so nothing is drawn through a step.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from campaigns.steps import step_type

ENTRY = "@entry"  # never a step key: keys start with a letter or a digit

NODE_WIDTH = 236
NODE_HEIGHT = 96
ENTRY_HEIGHT = 64
END_WIDTH, END_HEIGHT = 64, 26
POINT_WIDTH = 12  # a point an edge passes through in a layer it crosses
LAYER_GAP = 56  # room between layers for the exits' labels
NODE_GAP = 36
MARGIN = 20
LANE_GAP = 16  # between the loops drawn up the right-hand side
LOOP_LABEL = 80  # room at the right for the label of the last loop
SWEEPS = 6


@dataclass
class Node:
    id: str
    kind: str  # entry | step | end | point
    layer: int = 0
    x: float = 0.0
    y: float = 0.0
    width: float = 0.0
    height: float = 0.0
    step: dict | None = None
    reached: bool = True  # some path from the entry leads here

    @property
    def center(self) -> float:
        return self.x + self.width / 2


@dataclass
class Edge:
    source: str
    target: str
    label: str = ""
    back: bool = False  # drawn up the right-hand side: it goes back to an earlier layer
    chain: list[str] = field(default_factory=list)  # the points it passes in the layers it crosses
    points: list[tuple[float, float]] = field(default_factory=list)
    path: str = ""
    label_at: tuple[float, float] = (0.0, 0.0)


@dataclass
class Graph:
    nodes: dict[str, Node]
    edges: list[Edge]
    width: float
    height: float

    def steps(self) -> list[Node]:
        return [node for node in self.nodes.values() if node.kind == "step"]


def exits(steps: Sequence[Mapping], index: int) -> list[tuple[str, str]]:
    """(label, target key) for every way out of the step at index; "" as target ends the
    journey. The same reading of the steps as the engine's (its type's exits, Journey.following)."""
    step = steps[index]
    kind = step_type(step["type"]) if isinstance(step.get("type"), str) else None
    named = kind.exits_of(dict(step)) if kind is not None else None
    if named is not None:
        return named
    if "next" in step:
        return [("", step.get("next") or "")]
    following = steps[index + 1].get("key", "") if index + 1 < len(steps) else ""
    return [("", following)]


def layout(steps: Sequence[Mapping]) -> Graph:
    """Every step a node, every exit an edge, each with its place on the drawing."""
    steps = [step for step in steps if isinstance(step, Mapping) and isinstance(step.get("key"), str)]
    nodes: dict[str, Node] = {ENTRY: Node(ENTRY, "entry", width=NODE_WIDTH, height=ENTRY_HEIGHT)}
    for step in steps:
        node = Node(step["key"], "step", width=NODE_WIDTH, height=NODE_HEIGHT, step=dict(step))
        nodes.setdefault(step["key"], node)
    edges: list[Edge] = []
    if steps:
        edges.append(Edge(ENTRY, steps[0]["key"]))
    ends = 0
    for index, step in enumerate(steps):
        for label, target in exits(steps, index):
            if target not in nodes or target == ENTRY:
                ends += 1
                target_id = f"@end{ends}"
                nodes[target_id] = Node(target_id, "end", width=END_WIDTH, height=END_HEIGHT)
                target = target_id
            edges.append(Edge(step["key"], target, label))

    _mark_back_edges(nodes, edges)
    _assign_layers(nodes, edges)
    layers = _split_long_edges(nodes, edges)
    _order(layers, nodes, edges)
    _place(layers, nodes, edges)
    width = _route(layers, nodes, edges)
    height = max((node.y + node.height for node in nodes.values()), default=0) + MARGIN
    return Graph(nodes=nodes, edges=edges, width=width, height=height)


def _outgoing(edges: list[Edge]) -> dict[str, list[Edge]]:
    out: dict[str, list[Edge]] = defaultdict(list)
    for edge in edges:
        out[edge.source].append(edge)
    return out


def _mark_back_edges(nodes: dict[str, Node], edges: list[Edge]) -> None:
    """A depth-first walk from the entry, then from each step nothing leads to; an edge to a
    node still on the walk's path closes a loop. Iterative: a long journey cannot exhaust
    the stack, and every node is entered once, so a loop cannot hang it."""
    out = _outgoing(edges)
    state: dict[str, int] = {}  # 1 on the path, 2 done
    roots = [ENTRY] + [node_id for node_id, node in nodes.items() if node.kind == "step"]
    for root in roots:
        if root in state:
            continue
        state[root] = 1
        stack = [(root, iter(out[root]))]
        while stack:
            node_id, pending = stack[-1]
            edge = next(pending, None)
            if edge is None:
                state[node_id] = 2
                stack.pop()
                continue
            seen = state.get(edge.target)
            if seen == 1:
                edge.back = True
            elif seen is None:
                state[edge.target] = 1
                stack.append((edge.target, iter(out[edge.target])))
        if root == ENTRY:  # what the walk from the entry met is what contacts can come to
            for node_id, node in nodes.items():
                node.reached = node_id in state


def _assign_layers(nodes: dict[str, Node], edges: list[Edge]) -> None:
    """Longest path from the entry over the forward edges (Kahn's order): a step sits below
    every step that leads to it."""
    forward = [edge for edge in edges if not edge.back]
    incoming: dict[str, int] = defaultdict(int)
    out: dict[str, list[str]] = defaultdict(list)
    for edge in forward:
        incoming[edge.target] += 1
        out[edge.source].append(edge.target)
    ready = [node_id for node_id in nodes if not incoming[node_id]]
    for node_id in ready:
        nodes[node_id].layer = 0 if node_id == ENTRY else 1
    while ready:
        node_id = ready.pop()
        for target in out[node_id]:
            nodes[target].layer = max(nodes[target].layer, nodes[node_id].layer + 1)
            incoming[target] -= 1
            if not incoming[target]:
                ready.append(target)


def _split_long_edges(nodes: dict[str, Node], edges: list[Edge]) -> list[list[str]]:
    """A point in each layer a forward edge crosses; the layers, in the order first seen."""
    for number, edge in enumerate(edges):
        if edge.back:
            continue
        for layer in range(nodes[edge.source].layer + 1, nodes[edge.target].layer):
            point = f"@p{number}.{layer}"
            nodes[point] = Node(point, "point", layer=layer, width=POINT_WIDTH, height=0)
            edge.chain.append(point)
    depth = max(node.layer for node in nodes.values())
    layers: list[list[str]] = [[] for _ in range(depth + 1)]
    for node_id in _walk_order(nodes, edges):
        layers[nodes[node_id].layer].append(node_id)
    return layers


def _walk_order(nodes: dict[str, Node], edges: list[Edge]) -> list[str]:
    """Nodes in the order a reader meets them (exits in their order: yes before no), which
    is a good first order within each layer."""
    out: dict[str, list[str]] = defaultdict(list)
    for edge in edges:
        if not edge.back:
            out[edge.source].extend([*edge.chain, edge.target])
    seen: dict[str, None] = {}
    pending = [ENTRY] + [node_id for node_id, node in nodes.items() if node.kind == "step"]
    for root in pending:
        stack = [root]
        while stack:
            node_id = stack.pop()
            if node_id in seen:
                continue
            seen[node_id] = None
            stack.extend(reversed(out[node_id]))
    seen.update({node_id: None for node_id in nodes})  # nothing left out
    return list(seen)


def _links(edges: list[Edge]) -> list[tuple[str, str]]:
    """The forward edges as links between adjacent layers."""
    links = []
    for edge in edges:
        if edge.back:
            continue
        hops = [edge.source, *edge.chain, edge.target]
        links.extend(pairwise(hops))
    return links


def _crossings(layers: list[list[str]], links: list[tuple[str, str]], nodes: dict[str, Node]) -> int:
    position = {node_id: index for layer in layers for index, node_id in enumerate(layer)}
    by_layer: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for source, target in links:
        by_layer[nodes[source].layer].append((position[source], position[target]))
    total = 0
    for pairs in by_layer.values():
        for index, (a1, b1) in enumerate(pairs):
            for a2, b2 in pairs[index + 1 :]:
                total += (a1 - a2) * (b1 - b2) < 0
    return total


def _neighbours(links) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Each node's neighbours in the layer above and in the layer below."""
    above: dict[str, list[str]] = defaultdict(list)
    below: dict[str, list[str]] = defaultdict(list)
    for source, target in links:
        below[source].append(target)
        above[target].append(source)
    return above, below


def _order(layers: list[list[str]], nodes: dict[str, Node], edges: list[Edge]) -> None:
    """Fewer crossings: each node moves to the mean place of its neighbours in the layer
    above (then below), in sweeps; the best order seen is kept."""
    links = _links(edges)
    above, below = _neighbours(links)
    best, best_crossings = [list(layer) for layer in layers], _crossings(layers, links, nodes)
    for sweep in range(SWEEPS):
        downwards = sweep % 2 == 0
        indexes = range(1, len(layers)) if downwards else range(len(layers) - 2, -1, -1)
        for index in indexes:
            reference = layers[index - 1] if downwards else layers[index + 1]
            place = {node_id: position for position, node_id in enumerate(reference)}
            neighbours = above if downwards else below

            def key(item, place=place, neighbours=neighbours):
                position, node_id = item
                near = [place[other] for other in neighbours[node_id] if other in place]
                return sum(near) / len(near) if near else position

            layers[index] = [node_id for _, node_id in sorted(enumerate(layers[index]), key=key)]
        crossings = _crossings(layers, links, nodes)
        if crossings < best_crossings:
            best, best_crossings = [list(layer) for layer in layers], crossings
    layers[:] = best


def _pack(layer: list[str], nodes: dict[str, Node], wanted: dict[str, float]) -> None:
    """Put each node as near its wanted centre as the order and the gaps allow: the mean of
    packing from the left and from the right, which keeps both the order and the gaps."""
    if not layer:
        return
    widths = [nodes[node_id].width for node_id in layer]
    lefts = []
    edge = float("-inf")
    for node_id, width in zip(layer, widths, strict=True):
        x = max(wanted[node_id] - width / 2, edge)
        lefts.append(x)
        edge = x + width + NODE_GAP
    rights = [0.0] * len(layer)
    edge = float("inf")
    for index in range(len(layer) - 1, -1, -1):
        x = min(wanted[layer[index]] - widths[index] / 2, edge - widths[index])
        rights[index] = x
        edge = x - NODE_GAP
    for node_id, left, right in zip(layer, lefts, rights, strict=True):
        nodes[node_id].x = (left + right) / 2


def _place(layers: list[list[str]], nodes: dict[str, Node], edges: list[Edge]) -> None:
    links = _links(edges)
    above, below = _neighbours(links)
    for layer in layers:  # first packed side by side
        x = 0.0
        for node_id in layer:
            nodes[node_id].x = x
            x += nodes[node_id].width + NODE_GAP
    # down, up, down, up, and down last, so a step sits under what leads to it
    passes = [(above, layers), (below, layers[::-1])] * 2 + [(above, layers)]
    for neighbours, order in passes:
        for layer in order:
            wanted = {}
            for node_id in layer:
                near = [nodes[other].center for other in neighbours[node_id]]
                wanted[node_id] = sum(near) / len(near) if near else nodes[node_id].center
            _pack(layer, nodes, wanted)
    left = min(node.x for node in nodes.values())
    top = MARGIN
    for layer in layers:
        tallest = max((nodes[node_id].height for node_id in layer), default=0)
        for node_id in layer:
            node = nodes[node_id]
            node.x += MARGIN - left
            node.y = top
            if node.kind == "point":
                node.height = tallest
        top += max(tallest, END_HEIGHT) + LAYER_GAP


def _route(layers: list[list[str]], nodes: dict[str, Node], edges: list[Edge]) -> float:
    """The lines: forward edges leave a node's bottom (several exits share it out evenly)
    and enter the top of the next, as curves; a loop leaves by the right side, climbs a
    lane of its own at the right and comes back in by the right side. Returns the width."""
    right = max(node.x + node.width for node in nodes.values())
    out = _outgoing(edges)
    for node_id, leaving in out.items():
        source = nodes[node_id]
        forward = [edge for edge in leaving if not edge.back]
        forward.sort(key=lambda edge: nodes[(edge.chain or [edge.target])[0]].center)
        spread = min(64.0, (source.width - 24) / max(len(forward), 1))
        for index, edge in enumerate(forward):
            start_x = source.center + (index - (len(forward) - 1) / 2) * spread
            points = [(start_x, source.y + source.height)]
            for point_id in edge.chain:
                point = nodes[point_id]
                points += [(point.center, point.y), (point.center, point.y + point.height)]
            target = nodes[edge.target]
            points.append((target.center, target.y))
            edge.points = points
            edge.path = _curve(points)
            # halfway down the first curve: exits side by side keep their labels apart
            (x1, y1), (x2, y2) = points[0], points[1]
            edge.label_at = ((x1 + x2) / 2, (y1 + y2) / 2 + 4)
    lanes = 0
    for edge in edges:
        if not edge.back:
            continue
        source, target = nodes[edge.source], nodes[edge.target]
        top, bottom = min(source.y, target.y), max(source.y, target.y)
        beside = [n.x + n.width for n in nodes.values() if n.kind != "point" and n.y <= bottom and n.y >= top]
        lane = max(beside) + 28 + lanes * LANE_GAP
        lanes += 1
        right = max(right, lane + 8)
        start = (source.x + source.width, source.y + source.height * 0.7)
        end = (target.x + target.width, target.y + target.height * 0.3)
        edge.points = [start, (lane, start[1]), (lane, end[1]), end]
        edge.path = _orthogonal(edge.points)
        edge.label_at = (lane + 5, (start[1] + end[1]) / 2 + 4)
    return right + MARGIN + LOOP_LABEL * (lanes > 0)


def _curve(points: list[tuple[float, float]]) -> str:
    """Vertical segments inside crossed layers, smooth S-curves between layers."""
    parts = [f"M{points[0][0]:.1f},{points[0][1]:.1f}"]
    for (x1, y1), (x2, y2) in pairwise(points):
        if x1 == x2:
            parts.append(f"L{x2:.1f},{y2:.1f}")
        else:
            middle = (y1 + y2) / 2
            parts.append(f"C{x1:.1f},{middle:.1f} {x2:.1f},{middle:.1f} {x2:.1f},{y2:.1f}")
    return " ".join(parts)


def _orthogonal(points: list[tuple[float, float]], radius: float = 8.0) -> str:
    """Straight runs with rounded corners."""
    (x0, y0), (lane, _), (_, y1), (x1, _) = points
    up = -1 if y1 < y0 else 1
    r = min(radius, abs(y1 - y0) / 2) if y1 != y0 else 0
    return (
        f"M{x0:.1f},{y0:.1f} H{lane - r:.1f} Q{lane:.1f},{y0:.1f} {lane:.1f},{y0 + up * r:.1f} "
        f"V{y1 - up * r:.1f} Q{lane:.1f},{y1:.1f} {lane - r:.1f},{y1:.1f} H{x1:.1f}"
    )
