"""The library's import layers, read statically (tests/import_graph.py: every import, lazy ones included).

Rules:
1. No import circles among safealign modules.
2. safealign never imports stages/ or flows/ (they sit on top of it).
3. config/ gathers the params sections; the feature packages define theirs on ``safealign.section.Section``
   and never reach ``safealign.config`` (so the schema importing every section is no circle). Reading
   params.yaml is for entry points: the stage contract, the CLI commands and the category editor.
4. Pose data sits below operations: safealign.poses never imports safealign.ops.
5. The path catalogue imports nothing of the project, so any module may use it.
"""

from __future__ import annotations

import inspect
from pathlib import Path

from safealign.config import schema
from tests.import_graph import all_modules, closure, cycles, imports_of, module_name

LIBRARY = all_modules("safealign")
READS_PARAMS_YAML = ("safealign.stage", "safealign.cli", "safealign.commands.", "safealign.ops.categories",
                     "safealign.config")


def test_no_import_circles():
    assert cycles(LIBRARY) == [], "import circles: move what both sides share into a lower module"


def test_the_library_never_imports_stages_or_flows():
    upward = {m: sorted(i for i in imports_of(m) if i.split(".")[0] in ("stages", "flows")) for m in LIBRARY}
    assert not {m: i for m, i in upward.items() if i}


def test_params_sections_never_reach_the_config_package():
    sections = sorted({module_name(Path(inspect.getfile(cls))) for cls in _section_classes()})
    assert len(sections) >= 9, sections
    reaching = {m: sorted(r for r in closure(m) if r.startswith("safealign.config")) for m in sections
                if not m.startswith("safealign.config")}
    assert not {m: r for m, r in reaching.items() if r}, "a feature section imports back up into config/"


def test_only_entry_points_read_params_yaml():
    readers = sorted(m for m in LIBRARY if any(i.startswith("safealign.config") for i in imports_of(m))
                     and not m.startswith(READS_PARAMS_YAML))
    assert readers == [], "library functions take their params section as an argument"


def test_pose_data_does_not_import_operations():
    bad = {m: sorted(i for i in imports_of(m) if i.startswith("safealign.ops")) for m in LIBRARY
           if m.startswith("safealign.poses")}
    assert not {m: i for m, i in bad.items() if i}


def test_the_path_catalogue_is_a_leaf():
    assert imports_of("safealign.paths") == frozenset()


def test_the_checker_finds_a_circle(monkeypatch):
    """The cycle finder itself: a -> b -> c -> a is one circle; d only points into it."""
    import tests.import_graph as graph

    fake = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    monkeypatch.setattr(graph, "imports_of", lambda m, *args: frozenset(fake[m]))
    assert graph.cycles(["a", "b", "c", "d"]) == [["a", "b", "c"]]


def _section_classes() -> list[type]:
    """The section models the schema gathers (one level down from the root ``Params``)."""
    out = []
    for field in schema.Params.model_fields.values():
        annotation = field.annotation
        inner = getattr(annotation, "__args__", (annotation,))
        out += [c for c in inner if isinstance(c, type) and issubclass(c, schema.Section)]
    return out
