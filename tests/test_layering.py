"""The architecture's layering, from one declared order: every room of the package (a top-level module or
subpackage) imports only rooms of its own layer or below it, rooms import one another without circles, modules
import one another without circles, and every module can be imported first in a fresh interpreter."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import truncatedtl

ROOT = Path(truncatedtl.__file__).parent
# The rooms of the package, lowest layer first. A room may import the rooms of its own layer and of those below.
LAYERS = [
    ("files", "record", "spec"),
    ("evidence",),
    ("data",),
    ("backbones",),
    ("surgery",),
    ("strategies",),
    ("tasks",),
    ("analysis",),
    ("engine",),
    ("report",),
    ("search", "deploy"),
    ("compare", "pretrain"),
    ("api",),
    ("cli",),
    ("__init__",),
]
LAYER = {room: i for i, rooms in enumerate(LAYERS) for room in rooms}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def imports(module: str) -> set[str]:
    """The package's modules that ``module`` imports anywhere in its code (in functions too), a package
    standing for its ``__init__``; ``from pkg import sub`` names the submodule where ``sub`` is one."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [(a.name, []) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            targets = [(base, [a.name for a in node.names])]
        else:
            continue
        for target, names in targets:
            if not target.startswith("truncatedtl"):
                continue
            subs = [f"{target}.{n}" for n in names if f"{target}.{n}" in MODULES]
            found.update(subs or [target])
            while target not in MODULES:  # a name inside a module: the module
                target = target.rpartition(".")[0]
            if not subs:
                found.add(target)
    return {m for m in found if m in MODULES} - {module}


GRAPH = {m: imports(m) for m in MODULES}


def test_every_room_is_declared():
    assert sorted({room(m) for m in MODULES} - set(LAYER)) == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_nothing_is_imported_from_a_higher_layer(module):
    upward = sorted(m for m in GRAPH[module] if LAYER[room(m)] > LAYER[room(module)])
    assert upward == [], f"{module} imports from a higher layer: {upward}"


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_circle_between_rooms():
    rooms: dict[str, set[str]] = {}
    for module, targets in GRAPH.items():
        rooms.setdefault(room(module), set()).update(room(t) for t in targets if room(t) != room(module))
    assert _cycle(rooms) is None


def test_no_circle_between_modules():
    assert _cycle(GRAPH) is None


FRESH_IMPORTS = """
import importlib, os, sys
names = sys.argv[1:]
for name in names:  # load every third-party library once, then forget the package
    importlib.import_module(name)
for name in [m for m in sys.modules if m == "truncatedtl" or m.startswith("truncatedtl.")]:
    del sys.modules[name]


def start(name):
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # a child that has loaded nothing of the package imports this module first
        os.close(read)
        try:
            importlib.import_module(name)
            os._exit(0)
        except BaseException as err:
            os.write(write, f"{name}: {type(err).__name__}: {err}".encode())
            os._exit(1)
    os.close(write)
    return pid, read


running = []
for name in names + [None] * os.cpu_count():
    if name is not None:
        running.append(start(name))
    if len(running) >= os.cpu_count() or name is None and running:
        pid, read = running.pop(0)
        message = os.read(read, 4096).decode()
        os.close(read)
        os.waitpid(pid, 0)
        if message:
            print(message)
"""


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs fork")
def test_every_module_imports_first_in_a_fresh_interpreter():
    """Each module imported before any other of the package (third-party libraries preloaded, for speed);
    ``__main__`` modules run the CLI and are left out."""
    names = sorted(m for m in MODULES if not m.endswith(".__main__"))
    run = subprocess.run([sys.executable, "-c", FRESH_IMPORTS, *names], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == ""


@pytest.mark.parametrize("package, forbidden", [("truncatedtl.report", ("truncatedtl.engine", "truncatedtl.search")),
                                                ("truncatedtl.analysis", ("truncatedtl.engine",))])
def test_reports_and_analysis_load_no_training_code(package, forbidden):
    """What actually gets loaded, beyond what the layers allow: reports are drawn from records alone, analysis is
    pure of the training loop."""
    code = (f"import pkgutil, importlib, sys, {package} as p\n"
            f"for m in pkgutil.iter_modules(p.__path__): importlib.import_module('{package}.' + m.name)\n"
            f"print('\\n'.join(sorted(sys.modules)))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert [m for m in loaded if m.startswith(forbidden)] == []
