"""The dependency graph of lets, tables, outputs and rules, its cycles and an evaluation order.

A node is ``(kind, name)`` with kind one of "let", "table", "output", "rule". An edge A → B means
A reads B, so B must be evaluated first. An output depends on every rule that can propose to it,
so a rule that reads an output runs only once that output is final (LANGUAGE.md section 5).
"""

from __future__ import annotations

from collections.abc import Iterator

Node = tuple[str, str]


class DependencyGraph:
    def __init__(self) -> None:
        # Each node's dependencies as an ordered set (a dict with no values).
        self.edges: dict[Node, dict[Node, None]] = {}

    def add_node(self, node: Node) -> None:
        self.edges.setdefault(node, {})

    def add_edge(self, node: Node, dependency: Node) -> None:
        self.add_node(dependency)
        self.edges.setdefault(node, {})[dependency] = None

    def cycles(self) -> list[list[Node]]:
        """One cycle per strongly connected component that has one, as a path that starts and
        ends at the same node (the earliest declared node of the component first)."""
        found = []
        for component in self._components():
            members = set(component)
            start = component[0]
            if len(component) == 1 and start not in self.edges[start]:
                continue
            found.append(self._path_within(start, members))
        return found

    def order(self) -> list[Node]:
        """Dependencies before dependents; ties broken by declaration order. Nodes on a cycle
        keep their declaration order (the cycle is reported as an error)."""
        ordered: list[Node] = []
        visited: set[Node] = set()
        for root in self.edges:
            if root in visited:
                continue
            visited.add(root)
            # Iterative depth-first search: rulesets can chain thousands of lets.
            work = [(root, iter(self.edges[root]))]
            while work:
                node, dependencies = work[-1]
                for dependency in dependencies:
                    if dependency not in visited:
                        visited.add(dependency)
                        work.append((dependency, iter(self.edges[dependency])))
                        break
                else:
                    work.pop()
                    ordered.append(node)
        return ordered

    def _path_within(self, start: Node, members: set[Node]) -> list[Node]:
        """A shortest path from ``start`` back to itself inside one component."""
        parents: dict[Node, Node] = {}
        frontier = [start]
        while frontier:
            next_frontier = []
            for node in frontier:
                for dependency in self.edges[node]:
                    if dependency == start:
                        chain = [node]
                        while chain[-1] != start:
                            chain.append(parents[chain[-1]])
                        return [*reversed(chain), start]
                    if dependency in members and dependency not in parents:
                        parents[dependency] = node
                        next_frontier.append(dependency)
            frontier = next_frontier
        return [start, start]

    def _components(self) -> Iterator[list[Node]]:
        """Tarjan's strongly connected components, each in declaration order."""
        index: dict[Node, int] = {}
        lowlink: dict[Node, int] = {}
        stack: list[Node] = []
        on_stack: set[Node] = set()
        position = {node: i for i, node in enumerate(self.edges)}
        components: list[list[Node]] = []

        def connect(node: Node) -> None:
            # Iterative to survive rulesets with thousands of chained lets.
            work = [(node, iter(self.edges[node]))]
            index[node] = lowlink[node] = len(index)
            stack.append(node)
            on_stack.add(node)
            while work:
                current, dependencies = work[-1]
                advanced = False
                for dependency in dependencies:
                    if dependency not in index:
                        index[dependency] = lowlink[dependency] = len(index)
                        stack.append(dependency)
                        on_stack.add(dependency)
                        work.append((dependency, iter(self.edges[dependency])))
                        advanced = True
                        break
                    if dependency in on_stack:
                        lowlink[current] = min(lowlink[current], index[dependency])
                if advanced:
                    continue
                work.pop()
                if work:
                    parent = work[-1][0]
                    lowlink[parent] = min(lowlink[parent], lowlink[current])
                if lowlink[current] == index[current]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == current:
                            break
                    components.append(sorted(component, key=position.__getitem__))

        for node in self.edges:
            if node not in index:
                connect(node)
        return iter(sorted(components, key=lambda c: position[c[0]]))
