"""The architecture a reader is promised, checked statically: short files, one import cycle
(tensor / autograd / ops) and no other, kernels that never import tinynn, three backends
that all implement the Backend protocol, and a package list that installs every folder."""
import ast
import configparser
import importlib
import inspect
import re
from pathlib import Path

import pytest

import tinynn
from tinynn import backend, reference

ROOT = Path(__file__).resolve().parent.parent
MAX_LINES = 400


def _python_files(*folders):
    return sorted(p for folder in folders for p in (ROOT / folder).rglob("*.py"))


def _module_name(path):
    """tinynn/ops/shape.py → tinynn.ops.shape; kernels/conv.py → tinynn.kernels.conv."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[0] == "kernels":
        parts = ["tinynn"] + parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path):
    """The modules ``path`` imports, anywhere in the file (late imports included), resolved
    to module names: ``from .x import y`` names x.y when that is a module, else x."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if _source_of(candidate) else base)
    return found


def _source_of(name):
    """The file of module ``name`` in this repository, or None (not ours, or not a module)."""
    parts = name.split(".")
    if parts[0] != "tinynn":
        return None
    if parts[1:2] == ["kernels"]:
        parts = parts[1:]
    for candidate in (ROOT.joinpath(*parts).with_suffix(".py"), ROOT.joinpath(*parts, "__init__.py")):
        if candidate.exists():
            return candidate
    return None


def _strongly_connected(graph):
    """Tarjan's algorithm: the strongly connected components of a directed graph."""
    index, low, stack, on_stack, components = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            components.append(component)

    for node in graph:
        if node not in index:
            visit(node)
    return components


@pytest.mark.parametrize("path", _python_files("tinynn", "kernels", "tests", "benchmarks", "examples"),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_no_file_is_over_400_lines(path):
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(ROOT)} has {lines} lines"


def test_the_only_import_cycle_is_tensor_autograd_ops():
    graph = {_module_name(p): {m for m in _imports(p) if m.startswith("tinynn")}
             for p in _python_files("tinynn", "kernels")}
    cycles = [c for c in _strongly_connected(graph) if len(c) > 1]
    allowed = re.compile(r"^tinynn\.(tensor(_math)?|autograd(\..+)?|ops(\..+)?)$")
    assert len(cycles) == 1, cycles
    assert all(allowed.match(m) for m in cycles[0]), sorted(cycles[0])
    assert {"tinynn.tensor", "tinynn.autograd.function", "tinynn.ops.arithmetic"} <= cycles[0]


def test_kernels_never_import_tinynn():
    for path in _python_files("kernels"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                assert node.level <= 1, f"{path.name}: relative import above kernels/"
                assert not (node.module or "").startswith("tinynn"), path.name
            if isinstance(node, ast.Import):
                assert not any(a.name.startswith("tinynn") for a in node.names), path.name


def _positional_parameters(function):
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return [p.name for p in inspect.signature(function).parameters.values() if p.kind in kinds]


@pytest.mark.parametrize("name", ["reference", "cpu_backend", "cuda_backend"])
def test_every_backend_implements_the_protocol(name):
    module = reference if name == "reference" else importlib.import_module(f"tinynn.kernels.{name}")
    declared = {n: f for n, f in vars(backend.Backend).items()
                if callable(f) and not n.startswith("_")}
    assert len(declared) >= 12
    for function_name, declaration in declared.items():
        assert hasattr(module, function_name), f"{name} lacks {function_name}"
        expected = _positional_parameters(declaration)[1:]            # without self
        assert _positional_parameters(getattr(module, function_name)) == expected, function_name


def test_for_device_follows_use_kernels():
    from tinynn.kernels import cpu_backend
    cpu = tinynn.device("cpu")
    assert backend.active_kernels() == "numba"
    assert backend.for_device(cpu) is cpu_backend
    with backend.use_kernels("reference"):
        assert backend.for_device(cpu) is reference
    assert backend.for_device(cpu) is cpu_backend
    with pytest.raises(ValueError, match="use_kernels: expected one of"):
        with backend.use_kernels("fast"):
            pass


def test_setup_cfg_installs_every_package_and_no_top_level_kernels():
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    listed = set(config["options"]["packages"].split())
    folders = {_module_name(p) for p in _python_files("tinynn", "kernels") if p.name == "__init__.py"}
    assert folders == listed
    assert "kernels" not in listed
    assert config["options"]["package_dir"].split() == ["tinynn.kernels", "=", "kernels"]


def test_front_end_namespaces_are_modules():
    import tinynn.keras.datasets.mnist
    import tinynn.keras.models
    assert inspect.ismodule(tinynn.keras.models) and inspect.ismodule(tinynn.keras.datasets.mnist)
    assert tinynn.keras.models.Sequential is tinynn.keras.Sequential


def test_readme_names_only_files_that_exist():
    """Every path in the README's layout section and 'where to find things' table."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Where to find things"):]
    paths = set(re.findall(r"`((?:tinynn|kernels|tests|benchmarks|examples)/[\w/.]*\.py)`", section))
    assert len(paths) >= 15
    missing = sorted(p for p in paths if not (ROOT / p).exists())
    assert not missing, missing


def test_plain_pytest_skips_only_the_cuda_folder_without_the_simulator():
    """``python -m pytest`` from the root must run the suite, not skip all of it."""
    import os
    import subprocess
    import sys
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "tests/test_layout.py::test_front_end_namespaces_are_modules", "tests/cuda/test_cuda_device.py"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert re.search(r"\b1 passed, \d+ skipped", result.stdout), result.stdout[-2000:]


def test_a_change_to_any_kernel_source_drops_every_cached_kernel(tmp_path):
    """Numba's cache sees only each kernel's own file; the kernels package checks them all."""
    from tinynn.kernels import drop_stale_cache
    (tmp_path / "geometry.py").write_text("def helper(): return 1\n")
    (tmp_path / "im2col.py").write_text("from .geometry import helper\n")
    cache = tmp_path / "__pycache__"
    cache.mkdir()
    (cache / "im2col._impl-1.py311.nbi").write_bytes(b"index")
    (cache / "im2col._impl-1.py311.1.nbc").write_bytes(b"code")
    assert drop_stale_cache(tmp_path) and not list(cache.glob("*.nb?"))
    (cache / "im2col._impl-1.py311.nbi").write_bytes(b"index")
    assert not drop_stale_cache(tmp_path) and list(cache.glob("*.nbi"))     # unchanged: kept
    (tmp_path / "geometry.py").write_text("def helper(): return 2\n")
    assert drop_stale_cache(tmp_path) and not list(cache.glob("*.nbi"))      # helper changed


def test_no_two_kernels_with_different_options_share_a_cache_entry():
    """Numba names a cached kernel after its function (module, qualified name, line), not after
    its options: two njit(cache=True) of one function (a parallel kernel and its serial twin)
    would load each other's machine code.  ``kernels.twin`` gives the second its own name.
    (One helper compiled alike in several modules, as ``geometry.py``'s are, is harmless.)"""
    import importlib
    import pkgutil

    from numba.core.registry import CPUDispatcher

    import tinynn.kernels as kernels
    seen = {}
    for info in pkgutil.iter_modules(kernels.__path__):
        if info.name.startswith("cuda"):
            continue
        module = importlib.import_module(f"tinynn.kernels.{info.name}")
        for name, value in vars(module).items():
            if isinstance(value, CPUDispatcher) and value._cache.__class__.__name__ != "NullCache":
                func = value.py_func
                key = (func.__module__, func.__qualname__, func.__code__.co_firstlineno)
                options = seen.setdefault(key, value.targetoptions)
                assert options == value.targetoptions, f"{info.name}.{name} shares its cache with another kernel"
    assert len(seen) > 20
    # and the check can fail: the serial twin made without ``twin`` would be caught
    from numba import njit
    from tinynn.kernels import vnni
    clash = njit(cache=True)(vnni._linear_impl)
    assert seen[(clash.py_func.__module__, clash.py_func.__qualname__, clash.py_func.__code__.co_firstlineno)] \
        != clash.targetoptions
