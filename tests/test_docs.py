"""Every example of README.md and docs/*.md runs, and prints what the page shows.

The convention, for whoever writes a page:

- Every ```python block is executed. The blocks of one page run top to bottom in one
  namespace (like a notebook), in one fresh Python process per page, whose working folder
  is an empty temporary folder and which imports minibigram from this checkout
  (``PYTHONPATH``); nothing else is installed but the test extras. ``__name__`` is
  ``"__main__"``. A block that cannot run stand-alone must be rewritten until it can.
- A ```text block (or a fence with no language) that follows a ```python block, with only
  blank lines between them, is that block's exact standard output: the test compares the
  two, line by line, after removing trailing white space of each line and trailing blank
  lines. A python block without such a ```text block may print anything.
- Snippets that are not Python to run are marked ```text, ```console or ```sh.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```[ \t]*$", re.M | re.S)

DRIVER = r"""
import contextlib, io, json, sys, traceback
blocks = json.load(open(sys.argv[1], encoding="utf-8"))
namespace = {"__name__": "__main__"}
outputs = []
for i, code in enumerate(blocks):
    buf = io.StringIO()
    try:
        with contextlib.redirect_stdout(buf):
            exec(compile(code, f"<block {i + 1}>", "exec"), namespace)
    except BaseException:
        outputs.append({"out": buf.getvalue(), "error": traceback.format_exc()})
        break
    outputs.append({"out": buf.getvalue(), "error": None})
json.dump(outputs, open(sys.argv[2], "w", encoding="utf-8"))
"""


def python_blocks(text: str) -> list[tuple[str, str | None, int]]:
    """(code, expected output or None, line number) of every python block of a page."""
    fences = [(m.group(1), m.group(2), m.start(), m.end()) for m in FENCE.finditer(text)]
    blocks = []
    for i, (lang, body, start, end) in enumerate(fences):
        if lang != "python":
            continue
        expected = None
        if i + 1 < len(fences):
            nlang, nbody, nstart, _ = fences[i + 1]
            if nlang in ("text", "") and text[end:nstart].strip() == "":
                expected = nbody
        blocks.append((body, expected, text.count("\n", 0, start) + 1))
    return blocks


def normalized(out: str) -> list[str]:
    lines = [line.rstrip() for line in out.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def test_the_convention_finds_blocks_and_outputs():
    page = ("```python\nprint(1)\n```\n\n```text\n1\n```\n"
            "```console\n$ x\n```\n```python\nx = 2\n```\ntext\n```text\nnot an output\n```\n")
    assert python_blocks(page) == [("print(1)\n", "1\n", 1), ("x = 2\n", None, 11)]


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_every_python_block_runs_and_prints_what_the_page_shows(page, tmp_path):
    blocks = python_blocks(page.read_text(encoding="utf-8"))
    if not blocks:
        return   # a page of prose: nothing to run
    work = tmp_path / "work"
    work.mkdir()
    (tmp_path / "blocks.json").write_text(json.dumps([b[0] for b in blocks]), encoding="utf-8")
    (tmp_path / "driver.py").write_text(DRIVER, encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg")
    r = subprocess.run([sys.executable, str(tmp_path / "driver.py"), str(tmp_path / "blocks.json"),
                        str(tmp_path / "outputs.json")], cwd=work, env=env, capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    outputs = json.loads((tmp_path / "outputs.json").read_text(encoding="utf-8"))
    for (_, expected, line), got in zip(blocks, outputs):
        where = f"{page.name}, the python block at line {line}"
        assert got["error"] is None, f"{where} raised:\n{got['error']}"
        if expected is not None:
            assert normalized(got["out"]) == normalized(expected), (
                f"{where} printed:\n{got['out']}\nbut the page shows:\n{expected}")
    assert len(outputs) == len(blocks)


def test_readme_is_short_and_has_a_table_of_contents():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.encode("utf-8")) <= 16_000
    headings = re.findall(r"^## (.+)$", text, re.M)
    for h in headings:
        if h != "Contents":
            anchor = re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-")
            assert f"(#{anchor})" in text, f"the table of contents lacks {h!r}"


def test_relative_links_of_the_pages_lead_to_files():
    for page in PAGES:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            path = (page.parent / target).resolve()
            if "://" not in target:
                assert path.exists(), f"{page.name} links to {target}"


def test_every_cli_option_and_argument_states_its_default():
    from minibigram.cli import build_parser

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    for name, parser in sub.choices.items():
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            text = action.help or ""
            assert "default" in text or "required" in text, (name, action.dest, text)
