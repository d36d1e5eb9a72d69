"""The autograd-graph picture, its text fallback, and the interpretability pictures: each
file is written and holds what it should (not only "exists")."""
import re
import warnings

import numpy as np
import pytest

import tinynn
from tinynn import viz
from tinynn.interpret import visualize


@pytest.fixture
def loss_and_params():
    tinynn.manual_seed(0)
    model = tinynn.nn.Sequential(tinynn.nn.Linear(4, 3), tinynn.nn.ReLU(), tinynn.nn.Linear(3, 2))
    loss = tinynn.nn.functional.cross_entropy(model(tinynn.randn(5, 4)), tinynn.tensor(np.array([0, 1, 0, 1, 1])))
    return loss, dict(model.named_parameters())


EXPECTED_TREE = """\
#1 SoftmaxCrossEntropy scalar float32
└─ #2 Linear 5×2 float32
   ├─ #3 ReLU 5×3 float32
   │  └─ #4 Linear 5×3 float32
   │     ├─ #5 constant 5×4 float32
   │     ├─ #6 0.weight 3×4 float32, requires grad
   │     └─ #7 0.bias 3 float32, requires grad
   ├─ #8 2.weight 2×3 float32, requires grad
   └─ #9 2.bias 2 float32, requires grad"""


def test_graph_text_is_the_tree(loss_and_params):
    loss, params = loss_and_params
    assert viz.graph_text(loss, params=params) == EXPECTED_TREE


def test_graph_text_refers_back_to_shared_tensors():
    x = tinynn.randn(3, requires_grad=True)
    y = x.tanh()
    text = viz.graph_text((y * y).sum())
    assert text.splitlines()[-1].strip().endswith("(#3, above)") and text.count("Tanh") == 2


@pytest.mark.parametrize("suffix", ["svg", "png"])
def test_draw_graph_renders_a_picture(loss_and_params, tmp_path, suffix):
    loss, params = loss_and_params
    path = tmp_path / f"graph.{suffix}"
    graph = viz.draw_graph(loss, params=params, filename=path)
    assert graph.source.count("->") == 8                       # every edge of the tree above
    data = path.read_bytes()
    if suffix == "svg":
        text = data.decode()
        assert text.count('class="node"') == 9 and text.count('class="edge"') == 8
        for label in ("SoftmaxCrossEntropy", "0.weight", "2.bias", "5×3 float32"):
            assert label in text
    else:
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


def test_draw_graph_falls_back_to_text_without_graphviz(loss_and_params, tmp_path, monkeypatch):
    loss, params = loss_and_params
    monkeypatch.setattr(viz.shutil, "which", lambda name: None)
    with pytest.warns(UserWarning, match="no Graphviz program .* wrote the graph as text"):
        viz.draw_graph(loss, params=params, filename=tmp_path / "graph.svg")
    assert (tmp_path / "graph.txt").read_text() == EXPECTED_TREE
    assert not (tmp_path / "graph.svg").exists()


def test_draw_graph_rejects_non_tensors():
    with pytest.raises(TypeError, match="draw_graph: expected the Tensor"):
        viz.draw_graph(3.0)


def _png(figure, path):
    visualize.save_figure(figure, path)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 3_000
    return figure


def test_interpretability_pictures(tmp_path):
    rng = np.random.default_rng(0)
    image, attribution = rng.random((1, 12, 12)), rng.standard_normal((1, 12, 12))
    for sign in ("absolute_value", "positive", "all"):
        figure = _png(visualize.plot_attribution(tinynn.tensor(image), attribution, sign=sign), tmp_path / f"a_{sign}.png")
        assert len(figure.axes) == 3                           # input, overlay, colour bar
    several = _png(visualize.plot_attribution(image, {"a": attribution, "b": attribution[0]}), tmp_path / "two.png")
    assert [axis.get_title() for axis in several.axes[:3]] == ["input", "a", "b"] and len(several.axes) == 5
    assert len(_png(visualize.plot_filters(rng.standard_normal((6, 3, 5, 5))), tmp_path / "f.png").axes) == 6
    maps = _png(visualize.plot_feature_maps(rng.standard_normal((2, 10, 6, 6)), max_maps=9), tmp_path / "m.png")
    assert sum(axis.has_data() for axis in maps.axes) == 9
    attention = _png(visualize.plot_attention(rng.random((4, 5)), queries=list("abcd"), keys=list("vwxyz")),
                     tmp_path / "att.png")
    assert [t.get_text() for t in attention.axes[0].get_xticklabels()] == list("vwxyz")


def test_pictures_reject_bad_shapes():
    with pytest.raises(ValueError, match="plot_attribution: the attribution's map .* must match"):
        visualize.plot_attribution(np.zeros((1, 8, 8)), np.zeros((1, 4, 4)))
    with pytest.raises(ValueError, match=re.escape("plot_filters: expected a conv weight (out, in, kH, kW)")):
        visualize.plot_filters(np.zeros((3, 3)))
    with pytest.raises(TypeError, match="plot_attention: expected a Tensor or a NumPy array"):
        visualize.plot_attention([[1.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")                       # nothing here touches pyplot's state
        import matplotlib
        backend = matplotlib.get_backend()
        visualize.plot_filters(np.zeros((2, 1, 3, 3)))
        assert matplotlib.get_backend() == backend


def test_draw_graph_shows_itself_in_a_notebook(loss_and_params, monkeypatch):
    loss, params = loss_and_params
    graph = viz.draw_graph(loss, params=params)
    assert graph._repr_svg_().count('class="node"') == 9 and repr(graph) == EXPECTED_TREE
    monkeypatch.setattr(viz.shutil, "which", lambda name: None)
    assert graph._repr_svg_() is None                          # IPython then shows the text
