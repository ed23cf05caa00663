"""Collection rules for the whole test run (tests/ and the doctests in sk_hpo/)."""

import importlib.util

# Without the keras extra (the core test run against the oldest supported
# releases, see .ci/run), sk_hpo.keras cannot be imported for its doctests.
collect_ignore_glob = []
if importlib.util.find_spec("scikeras") is None or importlib.util.find_spec("keras") is None:
    collect_ignore_glob.append("sk_hpo/keras/*")
