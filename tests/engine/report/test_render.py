"""The plan document (schema, determinism, round trip) and its text / Markdown / JSON views.

Golden files live in tests/engine/report/golden/; regenerate them with NETSOT_UPDATE_GOLDEN=1 and review
the diff.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import pytest

from core.model import Plan
from engine.plan.document import plan_document, plan_from_document, render_json
from engine.report.render import GITHUB_COMMENT_LIMIT, render_markdown, render_text, summary_line
from schemas import validator
from tests.engine._plans import CREATED_AT, big_plan, mixed_plan

GOLDEN = Path(__file__).resolve().parent / "golden"


def doc_of(plan: Plan) -> dict:
    return plan_document(plan, netsot_version="0.1.0", created_at=CREATED_AT)


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("NETSOT_UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.is_file(), f"missing golden file {path}; run with NETSOT_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8")


# ----------------------------------------------------------------------------- document


def test_document_validates_against_the_schema():
    for plan in (mixed_plan(), big_plan(20), Plan()):
        errors = list(validator("plan.v1").iter_errors(doc_of(plan)))
        assert errors == []


def test_schema_rejects_a_change_without_its_after():
    doc = doc_of(mixed_plan())
    doc["changes"][0]["after"] = None
    assert list(validator("plan.v1").iter_errors(doc))


def test_document_summary_and_order():
    doc = doc_of(mixed_plan())
    assert doc["summary"] == {"create": 2, "update": 1, "delete": 1, "conflicts": 1, "drift": 1, "held": 1,
                              "unmanaged": 0, "discovered": 0}
    assert doc["applyable"] is True
    assert doc["prior_state"] == {"lineage": "6f1c1f7e-0000-4000-8000-000000000001", "serial": 7}
    # changes keep the plan (apply) order; fingerprints are sorted
    assert [c["address"] for c in doc["changes"]][:2] == ["nipap_address.lan.web01",
                                                          "edgemax_dhcp_mapping.LAN.web01"]
    assert list(doc["fingerprints"]) == sorted(doc["fingerprints"])


def test_document_is_deterministic_and_json_stable():
    assert render_json(doc_of(mixed_plan())) == render_json(doc_of(mixed_plan()))
    assert json.loads(render_json(doc_of(mixed_plan()))) == doc_of(mixed_plan())


def test_round_trip_plan_document_plan():
    plan = mixed_plan()
    back = plan_from_document(doc_of(plan))
    assert back == plan  # bindings are display-only (compare=False) …
    assert doc_of(back) == doc_of(plan)  # … and the document survives the trip completely


def test_empty_plan_says_no_changes():
    doc = doc_of(Plan())
    assert doc["applyable"] is False
    assert render_text(doc).splitlines()[-1] == "No changes. The systems match the configuration."


# ----------------------------------------------------------------------------- text


def test_text_golden():
    check_golden("mixed_plan.txt", render_text(doc_of(mixed_plan())))


def test_text_sections_in_order_and_summary_last():
    text = render_text(doc_of(mixed_plan()))
    lines = text.splitlines()
    assert lines[0].startswith("Conflicts (1)")
    order = [text.index(s) for s in ("Conflicts", "Drift (changed outside netsot)", "nipap (1 change)",
                                     "Held back by policy", "Warnings:")]
    assert order == sorted(order)
    assert lines[-1] == ("Plan: 2 to add, 1 to change, 1 to destroy. 1 conflict blocks 2 objects. "
                         "1 change held back by policy.")


def test_text_shows_provenance_and_old_to_new():
    text = render_text(doc_of(mixed_plan()))
    assert ("ip_address = 192.168.1.99 -> 192.168.1.30  (nipap, rule ip: config > nipap > proxmox > edgemax"
            in text)
    assert "ip       = 192.168.1.23  (allocator, first free address" in text
    assert "  - edgemax_host.old.lab.example" in text


def test_summary_line_wording():
    doc = doc_of(mixed_plan())
    doc["held"], doc["summary"]["held"] = [], 0
    assert summary_line(doc) == "Plan: 2 to add, 1 to change, 1 to destroy. 1 conflict blocks 2 objects."
    doc["conflicts"], doc["summary"]["conflicts"] = [], 0
    assert summary_line(doc) == "Plan: 2 to add, 1 to change, 1 to destroy."
    two = doc_of(big_plan(3))
    # the count is of what the conflicts list under "not touched" (these two name guests, block nothing)
    assert summary_line(two) == ("Plan: 3 to add, 0 to change, 0 to destroy. 2 conflicts (they block no "
                                 "object netsot manages).")


def test_color_only_when_asked():
    doc = doc_of(mixed_plan())
    assert "\033[" not in render_text(doc)
    assert "\033[32m" in render_text(doc, color=True)


# ----------------------------------------------------------------------------- markdown


def test_markdown_golden():
    check_golden("mixed_plan.md", render_markdown(doc_of(mixed_plan())))


def test_markdown_conflicts_come_before_changes():
    md = render_markdown(doc_of(mixed_plan()))
    assert md.index("Conflicts") < md.index("#### Changes") < md.index("<details>")
    assert md.count("<details>") == md.count("</details>") == 2
    assert md.count("```") % 2 == 0


def test_markdown_500_changes_stays_under_github_limit():
    md = render_markdown(doc_of(big_plan(500)))
    assert len(md) < GITHUB_COMMENT_LIMIT
    assert len(md) < 60_000
    assert "more changes not shown (see the JSON plan)" in md
    check_golden("big_plan_head.md", "\n".join(md.splitlines()[:40]) + "\n")


@pytest.mark.parametrize("limit", [400, 1_000, 5_000, 20_000, 65_536])
def test_markdown_always_under_the_limit(limit):
    md = render_markdown(doc_of(big_plan(500)), max_chars=limit)
    assert len(md) < limit
    assert "not shown" in md or "truncated" in md


def test_markdown_escapes_table_breakers():
    doc = doc_of(mixed_plan())
    doc = copy.deepcopy(doc)
    doc["conflicts"][0]["reason"] = "a | b\nc <script>"
    md = render_markdown(doc)
    row = next(line for line in md.splitlines() if line.startswith("| `ip_claimed_twice`"))
    assert "a \\| b\\\\nc &lt;script&gt;" in row  # the newline shows as the text \n


def test_markdown_counts_details_it_dropped():
    doc = doc_of(big_plan(60))
    md = render_markdown(doc, max_chars=12_000)
    assert len(md) < 12_000
    assert "not shown (see the JSON plan)" in md
