"""docs/makemore_part1.ipynb runs from the top without torch and prints what it has saved.

The notebook is executed again in a fresh kernel (nbclient, from the test extra), in a
Python where ``import torch`` fails, and each code cell's new outputs are compared with the
saved ones: text exactly (streams, results), figures by existence and size.
"""

from __future__ import annotations

import base64
import os
import struct
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "docs" / "makemore_part1.ipynb"
#: Figures may differ this much in width and height: the inline backend crops each figure
#: to its drawn extent, which moves with the fonts' metrics (matplotlib and FreeType).
SIZE_TOLERANCE = 0.02


def png_size(data: str) -> tuple[int, int]:
    """(width, height) of a base64 PNG, from its IHDR chunk."""
    raw = base64.b64decode(data)
    assert raw[:8] == b"\x89PNG\r\n\x1a\n" and raw[12:16] == b"IHDR", "not a PNG"
    return struct.unpack(">II", raw[16:24])


def outputs(cell) -> list[tuple]:
    """A cell's outputs as comparable tuples; consecutive stream chunks joined."""
    out: list[tuple] = []
    for o in cell.outputs:
        if o.output_type == "stream":
            if out and out[-1][:2] == ("stream", o.name):
                out[-1] = ("stream", o.name, out[-1][2] + o.text)
            else:
                out.append(("stream", o.name, o.text))
        elif o.output_type == "error":
            out.append(("error", o.ename, "\n".join(o.traceback)))
        else:
            data = o.data
            png = png_size(data["image/png"]) if "image/png" in data else None
            out.append((o.output_type, data.get("text/plain"), png))
    return out


def same_size(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return all(abs(x - y) <= SIZE_TOLERANCE * y for x, y in zip(a, b))


def test_the_notebook_runs_without_torch_and_prints_its_saved_outputs(tmp_path):
    saved = nbformat.read(NOTEBOOK, as_version=4)
    fresh = nbformat.read(NOTEBOOK, as_version=4)
    # A package named torch that cannot be imported, first on the kernel's path.
    (tmp_path / "torch").mkdir()
    (tmp_path / "torch" / "__init__.py").write_text(
        'raise ImportError("the notebook must run without torch")\n', encoding="utf-8")
    path = os.pathsep.join([str(tmp_path), str(ROOT), os.environ.get("PYTHONPATH", "")])
    env = dict(os.environ, PYTHONPATH=path.rstrip(os.pathsep))
    client = NotebookClient(fresh, timeout=300, kernel_name="python3", record_timing=False,
                            allow_errors=True,
                            resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    client.execute(env=env)

    code = [(a, b) for a, b in zip(saved.cells, fresh.cells) if a.cell_type == "code"]
    assert len(code) == 60
    figures = 0
    for was, now in code:
        name = was.source.splitlines()[0] if was.source else "an empty cell"
        old, new = outputs(was), outputs(now)
        errors = [o for o in new if o[0] == "error"]
        assert not errors, f"{name} failed:\n{errors[0][2]}"
        assert len(new) == len(old), f"{name}: {len(new)} outputs, {len(old)} saved"
        for o, n in zip(old, new):
            if o[0] == "stream":
                assert n == o, f"{name} printed\n{n[2]}\ninstead of\n{o[2]}"
                continue
            assert n[:2] == o[:2], f"{name} shows {n[1]!r} instead of {o[1]!r}"
            assert (n[2] is None) == (o[2] is None), f"{name}: a figure appeared or vanished"
            if o[2] is not None:
                figures += 1
                assert same_size(n[2], o[2]), f"{name}: a {n[2]} figure, {o[2]} saved"
    assert figures == 3   # the 27 x 27 table, xenc and the loss curve


def test_no_cell_imports_torch():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "import torch" not in code and "from torch" not in code
