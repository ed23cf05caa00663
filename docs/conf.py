"""Sphinx configuration of sk_hpo's documentation.

Build (from the repository root, after ``pip install -e ".[docs]"``)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

The build is offline: the examples gallery runs on bundled data, the
intersphinx inventories are written from the installed packages
(``_ext/offline_inventories.py``), the benchmark tables are generated from
the committed results files (``benchmarks/tables.py``), and every link
inside the site is checked after the build (``_ext/internal_links.py``).
"""

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(DOCS / "_ext"))
sys.path.insert(0, str(ROOT))

import offline_inventories

import sk_hpo

project = "sk_hpo"
author = "the sk_hpo developers"
copyright = "2026, the sk_hpo developers"
release = version = sk_hpo.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
    "internal_links",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
templates_path = ["_templates"]
exclude_patterns = ["_build", "_generated", "auto_examples/*.ipynb", "auto_examples/*.py",
                    "auto_examples/*.zip", "auto_examples/*.json", "auto_examples/*.md5"]
myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 3

# --- API reference -----------------------------------------------------------
autosummary_generate = True
autosummary_ignore_module_all = False
# scikit-learn's metadata-routing setters are generated on every estimator
# and documented by scikit-learn; they are left out of our pages.
autodoc_default_options = {
    "members": True,
    "exclude-members": "set_fit_request, set_partial_fit_request, set_predict_request, "
                       "set_score_request, set_transform_request",
}
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
# Docstring checks enforced on every documented object (numpydoc.validate);
# a failure is a build warning, so an error with -W.
numpydoc_validation_checks = {
    "GL08",  # the object has a docstring
    "SS01",  # a summary line
    "SS03",  # the summary ends with a period
    "SS05",  # the summary starts with a verb's base form, not "Returns"
    "PR01",  # every parameter of the signature is documented
    "PR02",  # no documented parameter that the signature lacks
    "PR06",  # parameter types say "int", "str", "bool", not "integer", "string", "boolean"
    "PR07",  # every documented parameter has a description
    "PR10",  # a space before the colon of "name : type"
    "RT02",  # the Returns section gives a type, not only a name
}
numpydoc_validation_exclude = {
    # A dimension's override of a method of Dimension: its page shows
    # Dimension's docstring (autodoc inherits it), which is validated there.
    r"^sk_hpo\.(Real|Integer|Categorical|Distribution)\.(canonical_unit|sample_unit|value_key)$",
}

# --- Links to other projects (offline inventories) ----------------------------
intersphinx_mapping = offline_inventories.write(DOCS / "_build" / "inventories")

# --- Examples gallery ----------------------------------------------------------
# Every script in examples/ runs at each build, in full (SK_HPO_EXAMPLE_FAST
# unset): the outputs and figures on the site are today's.
os.environ.pop("SK_HPO_EXAMPLE_FAST", None)
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r".*\.py$",
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "abort_on_example_error": True,
    "reference_url": {"sk_hpo": None},
    "backreferences_dir": "_build/backreferences",
    "doc_module": ("sk_hpo",),
    "matplotlib_animations": False,
    "remove_config_comments": True,
    "show_memory": False,
}

# --- Benchmark tables, from the committed results files ------------------------
from benchmarks import tables

tables.write_site(DOCS / "_generated" / "benchmarks")

# --- HTML -----------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"sk_hpo {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 6,
}
html_static_path = []
html_show_sourcelink = False
