"""Builds the tutorial notebooks from one source, and runs them.

    python notebooks/build_notebooks.py            # build and execute both notebooks (about 3.5 min each)
    python notebooks/build_notebooks.py --lang en  # one of them
    python notebooks/build_notebooks.py --refill   # new prose, same saved runs (code cells unchanged)

The code cells come from ``cells.py`` and are the same in every language; the
markdown comes from ``text_en.py`` and ``text_zh_cn.py``. Each notebook is
executed from a fresh kernel with nbclient, with ``notebooks/`` as its
working folder (where a reader's Jupyter starts it: the cells find the full
reproduction's results in ``../docs/reproduction/summary.json``, or where
the environment variable ``ALEXNET_REPRODUCTION_SUMMARY`` points), and saved
with its outputs. The notebook writes no files. The markdown quotes the
run's own numbers: a ``{{name}}`` in the text is replaced by
``numbers[name]`` as printed by the last cell, so every number in the prose
is one the cells computed or read from the reproduction's summary.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time

import nbformat

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from cells import CELLS  # noqa: E402
import text_en  # noqa: E402
import text_zh_cn  # noqa: E402

LANGUAGES = {"en": text_en, "zh-CN": text_zh_cn}
PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
CJK = re.compile(r"[\u4e00-\u9fff]")
CJK_PUNCTUATION = re.compile(r"[\u3000-\u303f\uff00-\uffef]")
NO_JOIN = ("|", "#", "$$", "```")  # lines that stay as they are: tables, headings, formulas, code
LIST_ITEM = re.compile(r"(- |\* |\d+\. )")


def path_of(language):
    return os.path.join(HERE, f"alexnet_tutorial.{language}.ipynb")


def unwrap(text):
    """Joins the wrapped lines of each paragraph (and of each list item, whose
    continuation lines may be indented): Markdown turns a line break into a
    space, which Chinese text must not get between its characters."""
    out = []
    for line in text.split("\n"):
        previous = out[-1] if out else ""
        stripped = line.strip()
        if (stripped and previous.strip() and not stripped.startswith(NO_JOIN) and not LIST_ITEM.match(stripped)
                and not previous.startswith(NO_JOIN)):
            a, b = previous[-1], stripped[0]
            chinese = CJK.match(a) and CJK.match(b)
            glue = "" if chinese or CJK_PUNCTUATION.match(a) or CJK_PUNCTUATION.match(b) else " "
            out[-1] = previous + glue + stripped
        else:
            out.append(line)
    return "\n".join(out)


def build(language):
    """The notebook for ``language``, not executed (placeholders unfilled)."""
    text = LANGUAGES[language].TEXT
    nb = nbformat.v4.new_notebook()
    for kind, content in CELLS:
        if kind == "md":
            nb.cells.append(nbformat.v4.new_markdown_cell(unwrap(text[content].strip("\n"))))
        else:
            nb.cells.append(nbformat.v4.new_code_cell(content))
    nb.metadata.update(
        kernelspec={"name": "python3", "display_name": "Python 3", "language": "python"},
        language_info={"name": "python"},
    )
    nb.metadata["language"] = language
    for i, cell in enumerate(nb.cells):  # stable ids keep diffs small
        cell["id"] = f"{language.lower().replace('-', '')}-{i:02d}"
    return nb


def execute(nb, timeout=600, cwd=HERE):
    """Runs ``nb`` in place from a fresh ``python3`` kernel whose working
    folder is ``cwd`` (``notebooks/``, as for a reader); returns seconds.
    Any exception in a cell (a failed ``assert`` included) stops it with
    ``nbclient.exceptions.CellExecutionError``."""
    from nbclient import NotebookClient

    started = time.time()
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": cwd}})
    client.execute()
    return time.time() - started


def numbers_of(nb):
    """The ``numbers`` dict printed as JSON by the last code cell."""
    last = [c for c in nb.cells if c.cell_type == "code"][-1]
    text = "".join(o.get("text", "") for o in last.outputs if o.output_type == "stream")
    return json.loads(text.strip().splitlines()[-1])


def fill(nb, numbers, language):
    """Replaces ``{{name}}`` in the markdown cells with the run's numbers, and
    a verdict placeholder with the language's sentence for what the run found."""
    verdicts = LANGUAGES[language].VERDICTS

    def value(match):
        name = match.group(1)
        if name in verdicts:
            key, sentences = verdicts[name]
            return PLACEHOLDER.sub(value, sentences[numbers[key]])
        if name not in numbers:
            raise KeyError(f"the text quotes {name!r}, which the cells did not compute")
        return str(numbers[name])

    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = PLACEHOLDER.sub(value, cell.source)
    return nb


def refill(language):
    """The saved notebook with its prose rebuilt from the current text and
    filled from its own saved run: for editing the prose without rerunning.
    The code cells must be unchanged."""
    saved = nbformat.read(path_of(language), as_version=4)
    nb = build(language)
    old = [c for c in saved.cells if c.cell_type == "code"]
    new = [c for c in nb.cells if c.cell_type == "code"]
    if [c.source for c in old] != [c.source for c in new]:
        raise SystemExit(f"{language}: the code cells changed since the saved run; execute it again")
    for before, after in zip(old, new):
        after.outputs, after.execution_count = before.outputs, before.execution_count
    return fill(nb, numbers_of(nb), language)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lang", nargs="+", default=list(LANGUAGES), choices=list(LANGUAGES))
    parser.add_argument("--no-execute", action="store_true", help="write the notebooks without outputs")
    parser.add_argument("--refill", action="store_true",
                        help="rebuild only the prose of the saved notebooks, from their saved runs' numbers")
    args = parser.parse_args(argv)
    for language in args.lang:
        if args.refill:
            nbformat.write(refill(language), path_of(language))
            print(f"refilled {path_of(language)}")
            continue
        nb = build(language)
        if not args.no_execute:
            seconds = execute(nb)
            fill(nb, numbers_of(nb), language)
            print(f"{language}: executed in {seconds:.0f} s")
        nbformat.write(nb, path_of(language))
        print(f"wrote {path_of(language)} ({os.path.getsize(path_of(language)) / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
