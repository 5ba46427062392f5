"""A tiny real DVC project shaped like the pose chain, for the orchestration tests (flows/, ops).

Stages (small real scripts): ``other`` (independent), ``curate`` (reads data/flagged, one file per
category), ``train@<category>`` (foreach over params guard.categories), ``fuse`` (all adapters) and
``evaluate``. A ``fail_once`` file makes the next ``train`` item fail once (a transient failure);
``fail_always`` makes every ``train`` item fail.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPTS = {
    "other.py": "from pathlib import Path\nPath('data/other.txt').write_text('independent\\n')\n",
    "curate.py": (
        "import yaml\nfrom pathlib import Path\n"
        "out = Path('data/processed/curated'); out.mkdir(parents=True, exist_ok=True)\n"
        "for cat in yaml.safe_load(open('params.yaml'))['guard']['categories']:\n"
        "    d = Path('data/flagged') / cat\n"
        "    names = sorted(p.name for p in d.iterdir()) if d.is_dir() else []\n"
        "    (out / f'{cat}.txt').write_text('\\n'.join(names) + '\\n')\n"),
    "train.py": (
        "import sys\nfrom pathlib import Path\n"
        "if Path('fail_always').exists(): sys.exit('train: fail_always is set')\n"
        "if Path('fail_once').exists():\n    Path('fail_once').unlink(); sys.exit('train: transient failure')\n"
        "cat = sys.argv[1]; out = Path('models/guard') / f'{cat}.txt'; out.parent.mkdir(parents=True, exist_ok=True)\n"
        "out.write_text('adapter for ' + Path(f'data/processed/curated/{cat}.txt').read_text())\n"),
    "fuse.py": (
        "from pathlib import Path\n"
        "text = ''.join(p.read_text() for p in sorted(Path('models/guard').glob('*.txt')))\n"
        "Path('models/fused.txt').write_text(text)\n"),
    "evaluate.py": (
        "import json\nfrom pathlib import Path\nPath('metrics').mkdir(exist_ok=True)\n"
        "n = len(Path('models/fused.txt').read_text().splitlines())\n"
        "Path('metrics/evaluate.json').write_text(json.dumps({'lines': n}))\n"),
}

DVC_YAML = """stages:
  other:
    cmd: PY scripts/other.py
    deps: [scripts/other.py]
    outs: [data/other.txt]
  curate:
    cmd: PY scripts/curate.py
    deps: [scripts/curate.py, data/flagged]
    params: [guard.categories]
    outs: [data/processed/curated]
  train:
    foreach: ${guard.categories}
    do:
      cmd: PY scripts/train.py ${item}
      deps: [scripts/train.py, "data/processed/curated/${item}.txt"]
      outs: ["models/guard/${item}.txt"]
  fuse:
    cmd: PY scripts/fuse.py
    deps: [scripts/fuse.py, models/guard]
    outs: [models/fused.txt]
  evaluate:
    cmd: PY scripts/evaluate.py
    deps: [scripts/evaluate.py, models/fused.txt]
    metrics:
      - metrics/evaluate.json:
          cache: false
"""


def dvc(root: Path, *args: str) -> subprocess.CompletedProcess:
    """Run the DVC CLI of this interpreter in ``root``; fail the test with its output on a non-zero exit."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    out = subprocess.run([sys.executable, "-m", "dvc", *args], cwd=root, capture_output=True, text=True, env=env)
    assert out.returncode == 0, f"dvc {' '.join(args)} failed:\n{out.stdout}\n{out.stderr}"
    return out


def make_tiny_dvc(root: Path) -> Path:
    """Turn a ``make_project`` dir (real params.yaml, shrunk) into the tiny DVC project above."""
    (root / "scripts").mkdir(exist_ok=True)
    for name, text in SCRIPTS.items():
        (root / "scripts" / name).write_text(text, encoding="utf-8")
    # the interpreter of the test, not whatever `python` is on PATH (stdlib + PyYAML are all the scripts use)
    (root / "dvc.yaml").write_text(DVC_YAML.replace("PY ", f"{sys.executable} "), encoding="utf-8")
    (root / "data" / "flagged").mkdir(parents=True, exist_ok=True)
    (root / "data" / "flagged" / ".keep").write_text("")
    dvc(root, "init", "--no-scm", "-q")
    return root
