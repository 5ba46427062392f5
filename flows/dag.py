"""The stage graph, read from DVC at run time (dvc.yaml stays the only list of stages)."""

from __future__ import annotations

from pathlib import Path


def stage_order(root: str | Path = ".", targets: list[str] | None = None) -> list[str]:
    """Stage names in dependency order; with ``targets``, only those stages and what they depend on.

    A target may name a foreach group (``train_guard``) to mean all of its items.
    """
    import contextlib

    import networkx as nx
    from dvc.repo import Repo

    # Stage addresses are relative to the current directory, so open the repo from its root.
    with contextlib.chdir(root), Repo(".") as repo:
        graph = repo.index.graph  # edge A -> B: stage A depends on stage B
        names = {stage: stage.addressing for stage in graph.nodes}
        order = list(reversed(list(nx.topological_sort(graph))))
        if targets:
            wanted = set()
            for stage, name in names.items():
                if name in targets or name.split("@")[0] in targets:
                    wanted.add(stage)
                    wanted |= nx.descendants(graph, stage)
            unknown = [t for t in targets if not any(n == t or n.split("@")[0] == t for n in names.values())]
            if unknown:
                raise ValueError(f"unknown stage(s) {unknown}; dvc.yaml has {sorted(set(names.values()))}")
            order = [s for s in order if s in wanted]
        return [names[s] for s in order]
