"""Unit tests of the pure rules: no services, no files, no clock."""

from __future__ import annotations

import os

from hypothesis import settings

# No example database: a unit run writes nothing to disk. No deadline: a slow first example
# (pydantic warming up) is not a failure of the rule under test. Fifty examples a property
# keep the run to seconds; HYPOTHESIS_PROFILE=thorough tries many more.
settings.register_profile("unit", database=None, deadline=None, max_examples=50)
settings.register_profile("thorough", database=None, deadline=None, max_examples=2000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "unit"))
