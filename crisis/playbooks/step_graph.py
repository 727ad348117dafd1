"""Checks of the `after` graph: known steps, no cycles, nothing after a step that can never run."""

from __future__ import annotations

from collections.abc import Mapping

from crisis.enums import SEVERITIES
from crisis.playbooks.definition import Condition
from crisis.playbooks.readers import PlaybookReaders
from crisis.playbooks.step_checks import StepInfo
from crisis.yamlcheck import hint


class GraphChecks(PlaybookReaders):
    def graph(self, infos: list[StepInfo], first_index: Mapping[str, int]) -> None:
        """Check `after`: known keys, no cycles, nothing after a step that can never run."""
        by_key = {info.key: info for info in infos if info.key is not None}
        edges: dict[str, list[str]] = {}
        for info in infos:
            if info.key is None:
                continue
            edges[info.key] = []
            for j, name in enumerate(info.after):
                path = ("steps", info.index, "after", j)
                if name == info.key:
                    self.report(path, f"step '{name}' is after itself (cycle: {name} -> {name})")
                elif name not in by_key:
                    self.report(path, f"unknown step '{name}' in after{hint(name, by_key)}")
                else:
                    edges[info.key].append(name)

        in_cycle = self.cycles(edges, by_key)

        # A step is dead when its `when` can never match, or it is after a dead step.
        dead: dict[str, str] = {}
        for info in infos:
            if info.key is not None and info.dead_reason:
                dead[info.key] = info.dead_reason
        for key in in_cycle:
            dead.setdefault(key, "it is part of a cycle")
        order = _topological(edges)
        for key in order:
            info = by_key[key]
            for j, name in enumerate(info.after):
                if name in dead and key not in in_cycle and name in by_key:
                    self.report(
                        ("steps", info.index, "after", j),
                        f"the step can never become active: it is after '{name}', which can "
                        f"never become active ({dead[name]})",
                    )
                    dead.setdefault(key, f"it is after '{name}'")

        # A `when` that cannot hold together with any step it waits on.
        for info in infos:
            if info.key is None or info.when is None or not info.after:
                continue
            predecessors = [by_key[name] for name in info.after if name in by_key]
            if not predecessors or any(p.key in dead for p in predecessors):
                continue
            own = set(info.when.severities or SEVERITIES)
            reachable = set()
            for p in predecessors:
                reachable |= set(p.when.severities if p.when and p.when.severities
                                 else SEVERITIES)
            if not own & reachable:
                self.report(
                    ("steps", info.index, "when", "severity"),
                    f"the step runs only at {', '.join(sorted(own))} but the steps it is "
                    f"after ({', '.join(p.key or '' for p in predecessors)}) only run at "
                    f"{', '.join(sorted(reachable))}; it can never follow them",
                )
                continue
            if all(_conflict(info.when, p.when) for p in predecessors):
                self.report(
                    ("steps", info.index, "when"),
                    "the step's when can never hold together with the when of any step it is "
                    f"after ({', '.join(p.key or '' for p in predecessors)}); it can never "
                    "follow them",
                )

    def cycles(self, edges: Mapping[str, list[str]], by_key: Mapping[str, StepInfo]
               ) -> set[str]:
        """Report each cycle in `after` once, naming it; return the keys in any cycle."""
        white, grey, black = 0, 1, 2
        colour = dict.fromkeys(edges, white)
        stack: list[str] = []
        reported: set[frozenset[str]] = set()
        members: set[str] = set()

        def visit(key: str) -> None:
            colour[key] = grey
            stack.append(key)
            for nxt in edges[key]:
                if colour[nxt] == grey:
                    cycle = stack[stack.index(nxt):]
                    members.update(cycle)
                    signature = frozenset(cycle)
                    if signature not in reported and len(cycle) > 1:
                        reported.add(signature)
                        start = min(cycle, key=lambda k: by_key[k].index)
                        at = cycle.index(start)
                        # `after` points backwards in time: show the order things would run.
                        ring = list(reversed(cycle[at:] + cycle[:at]))
                        ring = [start] + [k for k in ring if k != start]
                        names = " -> ".join(ring + [start])
                        info = by_key[start]
                        self.report(("steps", info.index, "after"),
                                    f"cycle in after: {names}")
                elif colour[nxt] == white:
                    visit(nxt)
            stack.pop()
            colour[key] = black

        for key in sorted(edges, key=lambda k: by_key[k].index):
            if colour[key] == white:
                visit(key)
        for key, targets in edges.items():
            if key in targets:
                members.add(key)
        return members


def _conflict(a: Condition, b: Condition | None) -> bool:
    """Return True when no severity and answers can satisfy both conditions."""
    if b is None:
        return False
    if a.severities and b.severities and not set(a.severities) & set(b.severities):
        return True
    return any(
        question in b.answers and not set(accepted) & set(b.answers[question])
        for question, accepted in a.answers.items()
    )


def _topological(edges: Mapping[str, list[str]]) -> list[str]:
    """Order keys so predecessors come first; keys in cycles come last in any order."""
    remaining = {key: set(targets) for key, targets in edges.items()}
    order: list[str] = []
    done: set[str] = set()
    progress = True
    while progress:
        progress = False
        for key in list(remaining):
            if remaining[key] <= done:
                order.append(key)
                done.add(key)
                del remaining[key]
                progress = True
    return order + list(remaining)

