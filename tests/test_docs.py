"""The documentation's generated parts: the README's table, the benchmarks page, the API list, links."""

import ast
import re
import sys
import zlib
from pathlib import Path

import pytest

from benchmarks import tables

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
sys.path.insert(0, str(DOCS / "_ext"))

import offline_inventories


def test_readme_table_is_what_the_results_files_give():
    assert tables.check_readme() == []


def test_a_retyped_readme_number_is_caught(tmp_path):
    readme = tmp_path / "README.md"
    text = (ROOT / "README.md").read_text()
    block = tables._readme_block(text).group(1)
    first_number = re.search(r"\| (-?\d+\.\d) \|", block)
    changed = block.replace(first_number.group(0), "| 99.9 |", 1)
    readme.write_text(text.replace(block, changed))
    diff = tables.check_readme(readme)
    assert any(line.startswith("-") and "99.9" in line for line in diff)
    assert any(line.startswith("+") and first_number.group(1) in line for line in diff)


def test_write_readme_restores_the_generated_table(tmp_path):
    readme = tmp_path / "README.md"
    text = (ROOT / "README.md").read_text()
    block = tables._readme_block(text).group(1)
    readme.write_text(text.replace(block, "| stale | table |"))
    assert tables.check_readme(readme)
    tables.write_readme(readme)
    assert tables.check_readme(readme) == []
    assert readme.read_text() == text


def test_readme_fits_one_screen_and_has_nothing_dated():
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) <= 200
    assert not re.search(r"20\d\d-\d\d-\d\d", text)
    assert not re.search(r"\bissue \d+", text, re.IGNORECASE)


def test_readme_code_is_fenced_and_each_python_block_compiles():
    text = (ROOT / "README.md").read_text()
    fences = re.findall(r"^```(\w*)$", text, flags=re.M)
    assert len(fences) % 2 == 0 and all(fences[1::2][i] == "" for i in range(len(fences) // 2))
    blocks = re.findall(r"^```python\n(.*?)^```$", text, flags=re.M | re.S)
    assert len(blocks) >= 2
    for block in blocks:
        compile(block, "README.md", "exec")
    # Outside the fences, no line reads as Python.
    prose = re.sub(r"^```\w*\n.*?^```$", "", text, flags=re.M | re.S)
    assert not re.search(r"^(from \w+ import|import \w+$|\w+ = \w+\()", prose, flags=re.M)


def test_readme_summary_ranks_the_quality_runs():
    """Each row's scores are the quality table's means over the tasks that method completed."""
    raw = tables.quality_results()
    rows = tables.quality_summary(raw)
    assert [m for m, *_ in rows][-1] in {"GASearchCV", "RandomizedSearchCV"}
    by_method = {m: (done, scores) for m, done, scores, _ in rows}
    assert by_method["RandomizedSearchCV"][1] == pytest.approx([0.0, 0.0], abs=0.05)
    assert by_method["skopt.BayesSearchCV"][0] == len(raw["tasks"]) - 1  # fails on one task
    assert set(by_method) == set(raw["methods"])


def test_benchmarks_page_has_only_generated_tables(tmp_path):
    """Every table on the page comes from an include of a file write_site generates."""
    page = (DOCS / "benchmarks.md").read_text()
    assert not re.search(r"^\|", page, re.MULTILINE), "a table typed into docs/benchmarks.md"
    included = re.findall(r"\{include\} _generated/benchmarks/(\S+)", page)
    written = tables.write_site(tmp_path)
    assert included and set(included) <= set(written)
    for name in included:
        assert re.search(r"^\|[ -]*---", (tmp_path / name).read_text(), re.MULTILINE)
    for name, paths in tables.CURRENT.items():
        text = (tmp_path / f"{name}.md").read_text()
        for path in paths:
            assert path.exists()
            assert str(path.relative_to(ROOT)) in text


def test_benchmarks_page_quality_table_is_the_suites_own(tmp_path):
    """The page's per-task table is benchmarks.run's rendering of the pooled results."""
    from benchmarks import run

    tables.write_site(tmp_path)
    raw = tables.quality_results()
    raw["mode"] = "check"
    expected = run.render(raw, tmp_path)
    page = (tmp_path / "quality.md").read_text()
    rows = [line for line in expected.splitlines() if line.startswith("| ")]
    assert rows and all(row in page for row in rows)


def _api_names():
    return set(re.findall(r"^   (\w+)$", (DOCS / "api" / "index.rst").read_text(), re.MULTILINE))


@pytest.mark.parametrize("module", ["sk_hpo", "sk_hpo.callbacks", "sk_hpo.plots", "sk_hpo.testing",
                                    "sk_hpo.keras", "sk_hpo.demo"])
def test_every_public_name_has_an_api_page(module):
    path = ROOT / Path(*module.split("."))
    path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    tree = ast.parse(path.read_text())
    public = next(
        ast.literal_eval(node.value) for node in tree.body
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "__all__"
    )
    data = {"FUNCTIONS"}  # a dict, described on its module's page
    assert set(public) - data <= _api_names()
    if module != "sk_hpo":
        assert f"   {module}\n" in (DOCS / "api" / "index.rst").read_text()


def test_internal_link_checker_finds_missing_pages_and_anchors(tmp_path):
    pytest.importorskip("sphinx")  # the docs extra
    import internal_links

    (tmp_path / "sub").mkdir()
    (tmp_path / "index.html").write_text(
        '<a href="sub/page.html#here">ok</a><a href="sub/page.html#gone">anchor</a>'
        '<a href="missing.html">page</a><a href="https://example.org/x">external</a>'
        '<img src="sub/pic.png"><a href="#top" id="top">self</a>'
    )
    (tmp_path / "sub" / "page.html").write_text('<h1 id="here">x</h1><a href="../index.html">up</a>')
    (tmp_path / "sub" / "pic.png").write_bytes(b"")
    broken = internal_links.broken_links(tmp_path)
    assert sorted(broken) == [("index.html", "missing.html"), ("index.html", "sub/page.html#gone")]


def test_offline_inventories_point_to_the_projects_pages(tmp_path):
    mapping = offline_inventories.write(tmp_path)
    assert set(mapping) == {"sklearn", "numpy", "scipy", "joblib", "keras"}
    url, path = mapping["sklearn"]
    data = Path(path).read_bytes()
    header, _, body = data.partition(b"zlib.\n")
    assert header.startswith(b"# Sphinx inventory version 2")
    lines = zlib.decompress(body).decode().splitlines()
    assert ("sklearn.model_selection.GridSearchCV py:class 1 "
            "modules/generated/sklearn.model_selection.GridSearchCV.html#$ -") in lines
    assert url == "https://scikit-learn.org/stable/"
