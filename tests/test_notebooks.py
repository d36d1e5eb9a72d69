"""Every lecture notebook executes from top to bottom (shrunk by TINYNN_NOTEBOOK_QUICK=1):
the Jupytext script is opened as a notebook and run by nbclient in a fresh Python kernel,
and any cell's error fails the test. The outputs are checked for what each notebook
promises to show."""
from pathlib import Path

import pytest

jupytext = pytest.importorskip("jupytext")
nbclient = pytest.importorskip("nbclient")

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"

EXPECTED = {   # a line each notebook prints, and how many pictures it draws
    "01_autograd_from_scratch.py": ("gradcheck: True", 1),
    "02_convolution.py": ("gradcheck with stride 2, padding 1, dilation (1, 2), 2 groups: True", 0),
    "03_training_lenet.py": ("reloaded model gives the same outputs", 1),
    "04_optimizers.py": ("Adam: final training loss", 2),
    "05_rnn_sequential_mnist.py": ("LSTM:", 0),
    "06_interpretability.py": ("completeness: Σ attributions − (F(x) − F(0))", 4),
    "07_compression.py": ("MLP student (distilled)", 1),
}


def test_every_notebook_is_tested():
    assert sorted(p.name for p in NOTEBOOKS.glob("*.py")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_notebook_executes(name, monkeypatch):
    monkeypatch.setenv("TINYNN_NOTEBOOK_QUICK", "1")
    notebook = jupytext.read(NOTEBOOKS / name)
    client = nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    text = "".join(o.get("text", "") for o in outputs)
    pictures = sum("image/png" in o.get("data", {}) or "image/svg+xml" in o.get("data", {}) for o in outputs)
    line, expected_pictures = EXPECTED[name]
    assert line in text
    assert pictures == expected_pictures
    assert not any(o.get("output_type") == "error" for o in outputs)
