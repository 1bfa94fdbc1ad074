"""#15 against the real nipapd 0.32.7: the scenarios of ``test_nipap_origin.py`` (a host made in
NIPAP through its API flows to the router; renaming, readdressing, re-MACing and deleting it there
follow) on a lab whose NIPAP is the real server instead of the simulator."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e import test_nipap_origin as scenarios
from tests.e2e.conftest import Lab

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.integration, pytest.mark.live,
              pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def lab(live_lab: Lab) -> Iterator[Lab]:
    yield live_lab


# the same test functions, collected here again (in file order) with this module's `lab`
globals().update({name: fn for name, fn in vars(scenarios).items() if name.startswith("test_")})
