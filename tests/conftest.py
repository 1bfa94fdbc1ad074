"""Suite-wide settings.

Hypothesis explores new random inputs on every developer run (and keeps failures in
``.hypothesis/``); under CI (``CI=true``) it is derandomized, so a CI verdict can be reproduced.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
