"""The autograd graph as a picture (micrograd's ``draw_dot``, torchviz's ``make_dot``).

``draw_graph(loss)`` draws every tensor that ``loss`` was computed from: ops as boxes with
the shape and dtype of what they computed, leaves that require grad (parameters, inputs)
in blue, constants in grey, the root in green. Arrows point the way the forward pass went;
backward walks them in reverse. The picture is made with the Graphviz Python package (the
``viz`` extra, which also installs ``graphviz-pure``, a self-contained ``dot`` program);
without Graphviz, ``graph_text`` gives the same graph as a text tree::

    loss = tinynn.nn.functional.cross_entropy(model(x), y)
    draw_graph(loss, params=dict(model.named_parameters()), filename="graph.svg")
    print(graph_text(loss))
"""
from __future__ import annotations

import shutil
import subprocess
import warnings
from pathlib import Path

from .autograd.engine import topological_order
from .files import atomic_write
from .tensor import Tensor

__all__ = ["draw_graph", "graph_text", "Graph"]


def _inputs(tensor):
    node = tensor._node
    return [t for t in node.inputs if t is not None] if node is not None else []


def _describe(tensor, names):
    shape = "×".join(map(str, tensor.shape)) or "scalar"
    what = tensor._node.function.__name__ if tensor._node is not None else \
        names.get(id(tensor)) or tensor.name or ("leaf" if tensor.requires_grad else "constant")
    return what, f"{shape} {tensor.dtype}"


def _kind(tensor, root):
    if tensor is root:
        return "root"
    if tensor._node is not None:
        return "op"
    return "leaf" if tensor.requires_grad else "constant"


STYLE = {"root": dict(shape="box", style="filled", fillcolor="palegreen"),
         "op": dict(shape="box"),
         "leaf": dict(shape="ellipse", style="filled", fillcolor="lightblue"),
         "constant": dict(shape="ellipse", style="filled", fillcolor="lightgrey")}


class Graph:
    """What ``draw_graph`` returns: ``.digraph`` (the ``graphviz.Digraph``), ``.source`` (its
    DOT text); a notebook shows it as a picture, ``print`` as the text tree."""

    def __init__(self, digraph, text):
        self.digraph, self.text = digraph, text

    @property
    def source(self):
        return self.digraph.source

    def _repr_svg_(self):            # IPython's display hook; None falls back to the text
        picture = _render(self.source, "svg")
        return None if picture is None else picture.decode()

    def __repr__(self):
        return self.text


def draw_graph(root, params=None, filename=None):
    """The graph of ``root`` as a :class:`Graph` (a notebook shows it); with ``filename`` it
    is also written, in the format of the suffix (``.svg``, ``.png``, ``.gv``).
    ``params`` ({name: tensor}, e.g. ``dict(model.named_parameters())``) names the leaves.
    Without the Graphviz package or a ``dot`` program, the text tree is written instead (to
    ``filename`` with the suffix ``.txt``) and a warning says so."""
    if not isinstance(root, Tensor):
        raise TypeError(f"draw_graph: expected the Tensor to draw the graph of, got {type(root).__name__}")
    names = {id(t): name for name, t in (params or {}).items()}
    try:
        import graphviz
    except ImportError:
        return _fallback(root, names, filename, "the graphviz package is not installed")
    graph = graphviz.Digraph("autograd", graph_attr=dict(rankdir="BT"), node_attr=dict(fontsize="11"))
    for tensor in topological_order(root, constants=True):
        what, shape = _describe(tensor, names)
        graph.node(str(id(tensor)), f"{what}\n{shape}", **STYLE[_kind(tensor, root)])
        for parent in _inputs(tensor):
            graph.edge(str(id(parent)), str(id(tensor)))
    if filename is not None:
        _write(graph, root, names, Path(filename))
    return Graph(graph, graph_text(root, names=names))


def _write(graph, root, names, path):
    fmt = path.suffix.lstrip(".") or "svg"
    if fmt in ("gv", "dot"):
        picture = graph.source.encode()
    else:
        picture = _render(graph.source, fmt)
        if picture is None:
            return _fallback(root, names, path, "no Graphviz program (dot or graphviz-pure) was found")
    with atomic_write(path, "draw_graph") as handle:
        handle.write(picture)


def _render(source, fmt):
    """The picture's bytes from Graphviz's ``dot``, or from ``graphviz-pure`` (a pip wheel of
    the same program); None when neither is installed."""
    program = shutil.which("dot") or shutil.which("graphviz-pure")
    if program is None:
        return None
    done = subprocess.run([program, f"-T{fmt}"], input=source.encode(), capture_output=True)
    if done.returncode != 0:
        raise RuntimeError(f"draw_graph: {program} could not render {fmt}: {done.stderr.decode()[:500]}")
    return done.stdout


def _fallback(root, names, filename, reason):
    text = graph_text(root, names=names)
    if filename is not None:
        path = Path(filename).with_suffix(".txt")
        warnings.warn(f"draw_graph: {reason}; wrote the graph as text to {path} "
                      "(pip install 'tinynn[viz]' for pictures)", stacklevel=3)
        with atomic_write(path, "draw_graph") as handle:
            handle.write(text.encode())
    return text


def graph_text(root, params=None, names=None):
    """The graph of ``root`` as an indented tree, root first; a tensor reached a second time
    is shown once and then referred to by its number."""
    names = names if names is not None else {id(t): name for name, t in (params or {}).items()}
    numbers, lines = {}, []
    stack = [(root, "", "")]
    while stack:
        tensor, lead, indent = stack.pop()
        what, shape = _describe(tensor, names)
        if id(tensor) in numbers:
            lines.append(f"{lead}{what} {shape}  (#{numbers[id(tensor)]}, above)")
            continue
        numbers[id(tensor)] = len(numbers) + 1
        flag = ", requires grad" if tensor.requires_grad and tensor._node is None else ""
        lines.append(f"{lead}#{numbers[id(tensor)]} {what} {shape}{flag}")
        children = _inputs(tensor)
        for position, child in reversed(list(enumerate(children))):
            last = position == len(children) - 1
            stack.append((child, indent + ("└─ " if last else "├─ "), indent + ("   " if last else "│  ")))
    return "\n".join(lines)
