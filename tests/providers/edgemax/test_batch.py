"""The batched push: replies per line, the check of `compare`, and the whole flow through scrapli
against the SSH simulator (a bad line in the middle of a batch, a router changed since the read)."""

from __future__ import annotations

import pytest

from core.errors import ProviderRejected
from providers.edgemax import batch
from providers.edgemax.session import ERROR_MARKERS, EdgeSession
from providers.edgemax.sim.server import SimHandle
from providers.vyatta import parse
from tests.providers.edgemax import sim_fixtures as fx
from tests.providers.edgemax.sim_fixtures import edgemax_settings, lab_config

client_key, host_key_dir, make_sim, sim = fx.client_key, fx.host_key_dir, fx.make_sim, fx.sim

LAN = "service dhcp-server shared-network-name LAN subnet 192.168.1.0/24"
PROMPT = "[edit]\r\nubnt@edge# "
BEFORE = parse.parse_commands(
    f"set {LAN} static-mapping nas ip-address 192.168.1.10\n"
    f"set {LAN} static-mapping nas mac-address '00:11:32:aa:bb:cc'\n"
    "set system static-host-mapping host-name nas.lab.example inet 192.168.1.10\n"
)


def session_for(router: SimHandle) -> EdgeSession:
    settings = edgemax_settings(router)
    return EdgeSession(settings, lab_config(settings))


# -- pure ----------------------------------------------------------------------------------------


def test_replies_are_cut_at_each_prompt_and_echoes_are_dropped() -> None:
    sent = ["set a b", "set c d", "set e f"]
    # what a terminal shows for typed-ahead lines: the echoes glued together, then one reply each
    text = ("set a bset c dset e f\r\n" + PROMPT + "\r\nThe specified configuration node is not valid\r\n"
            "Set failed\r\n" + PROMPT + "set e f\r\n" + PROMPT)
    assert batch.count_prompts(text) == 3
    texts = [batch.reply_text(r, sent) for r in batch.replies(text, 3)]
    assert texts == ["", "The specified configuration node is not valid\nSet failed", ""]
    assert batch.first_refused(texts, ERROR_MARKERS) == 1


def test_an_echo_cut_where_a_read_ended_is_dropped_too() -> None:
    sent = ["set service dhcp-server x 1", "set service dhcp-server y 2"]
    text = ("set service dhcp-server x 1set service dh\r\n" + PROMPT + "cp-server y 2\r\n"
            "The specified configuration node already exists\r\n" + PROMPT)
    texts = [batch.reply_text(r, sent) for r in batch.replies(text, 2)]
    assert texts == ["", "The specified configuration node already exists"]


def test_a_line_whose_echo_could_fake_an_error_or_a_prompt_is_not_batched() -> None:
    assert batch.batchable(f"set {LAN} static-mapping web ip-address 192.168.1.20", ERROR_MARKERS)
    assert not batch.batchable("set system login banner 'Set failed'", ERROR_MARKERS)
    assert not batch.batchable("set system login banner '[edit]'", ERROR_MARKERS)


def test_intended_change_models_set_delete_and_replace() -> None:
    lines = [
        f"set {LAN} static-mapping nas ip-address 192.168.1.11",  # single value: replaced (`>`)
        f"set {LAN} static-mapping web ip-address 192.168.1.20",
        "set system static-host-mapping host-name nas.lab.example inet 192.168.1.10",  # already there
        "delete system static-host-mapping host-name ghost",  # nothing to delete
        "set system static-host-mapping host-name nas.lab.example alias nas",
    ]
    modelled = batch.intended(BEFORE, lines)
    assert not isinstance(modelled, str)
    change, after = modelled
    assert change.replaced == {(*LAN.split(), "static-mapping", "nas", "ip-address", "192.168.1.11")}
    assert change.added == {(*LAN.split(), "static-mapping", "web", "ip-address", "192.168.1.20"),
                            ("system", "static-host-mapping", "host-name", "nas.lab.example", "alias", "nas")}
    assert change.removed == frozenset()
    assert after.value([*LAN.split(), "static-mapping", "nas", "ip-address"]) == "192.168.1.11"


def test_compare_output_matches_exactly_the_intended_change() -> None:
    lines = [f"set {LAN} static-mapping web ip-address 192.168.1.20",
             f"set {LAN} static-mapping web mac-address 52:54:00:12:34:56",
             f"set {LAN} static-mapping nas ip-address 192.168.1.11",
             "delete system static-host-mapping host-name nas.lab.example"]
    modelled = batch.intended(BEFORE, lines)
    assert not isinstance(modelled, str)
    compare = (f"[edit {LAN} static-mapping nas]\n>ip-address 192.168.1.11\n[edit {LAN}]\n"
               "+static-mapping web {\n+    ip-address 192.168.1.20\n+    mac-address 52:54:00:12:34:56\n+}\n"
               "[edit system static-host-mapping]\n-host-name nas.lab.example {\n-    inet 192.168.1.10\n-}")
    assert batch.compare_problem(compare, modelled[0]) is None
    # one leaf more on the router than the lines make: refused, naming it
    extra = compare.replace("+}\n", "+    static-mapping-parameters \"x y\"\n+}\n")
    problem = batch.compare_problem(extra, modelled[0])
    assert problem is not None and "unexpectedly added" in problem
    assert "static-mapping-parameters x y" in problem
    # the router lost one of the changes (e.g. someone else's commit made it a no-op)
    problem = batch.compare_problem(compare.split("[edit system")[0], modelled[0])
    assert problem is not None
    assert "not removed: system static-host-mapping host-name nas.lab.example" in problem


# -- through scrapli against the simulator ----------------------------------------------------------


def test_a_bad_line_in_the_middle_of_a_batch_is_named_discarded_and_nothing_committed(sim: SimHandle) -> None:
    before_saved, before_active = sim.saved_text(), sim.active_commands()
    lines = [f"set {LAN} static-mapping h{i:02d} ip-address 192.168.1.{20 + i}" for i in range(10)]
    bad = f"set {LAN} static-mapping h05 mac-address 52-54-00-12-34-56"  # `-` separators: refused
    lines.insert(5, bad)
    with session_for(sim) as s:
        with pytest.raises(ProviderRejected) as err:
            s.configure(lines)
        # the session is usable afterwards and back in op mode with nothing pending
        assert "h05" not in s.show_commands()
    msg = str(err.value)
    assert f"the router refused {bad!r}" in msg
    assert '"52-54-00-12-34-56" is not a valid value of type "macaddr"' in msg and "nothing was saved" in msg
    cmds = sim.log.commands()
    # every line reached the router in the batch, also those after the bad one …
    assert lines[-1] in cmds and cmds.index(lines[-1]) > cmds.index(bad)
    # … and the whole session was discarded: no commit, no save, nothing left behind
    assert cmds[cmds.index("discard") + 1] == "exit discard"
    assert "compare" not in cmds and not any(c.startswith("commit") for c in cmds)
    assert sim.log.commits == 0 and sim.saved_text() == before_saved
    assert sim.active_commands() == before_active


def test_batch_commits_once_and_reports_notes_per_line(sim: SimHandle) -> None:
    lines = [f"set {LAN} static-mapping nas ip-address 192.168.1.10",  # already exists: a note
             *(f"set {LAN} static-mapping h{i:02d} ip-address 192.168.1.{20 + i}" for i in range(30)),
             *(f"set {LAN} static-mapping h{i:02d} mac-address 52:54:00:00:01:{i:02x}" for i in range(30))]
    with session_for(sim) as s:
        result = s.configure(lines)
    assert result.committed and sim.log.commits == 1 and sim.log.sessions == 1
    assert result.notes == (f"{lines[0]}: The specified configuration node already exists",)
    assert sim.active_commands().count("static-mapping h") == 60
    assert result.after is not None and result.after.exists([*LAN.split(), "static-mapping", "h29"])


def test_a_router_changed_since_the_read_is_not_committed(sim: SimHandle) -> None:
    with session_for(sim) as s:
        stale = parse.parse_any(s.show_commands(), "show configuration commands")
        # someone else adds the same mapping meanwhile: our lines then change less than intended
        s.configure([f"set {LAN} static-mapping web ip-address 192.168.1.20",
                      f"set {LAN} static-mapping web mac-address 52:54:00:12:34:56"])
        commits = sim.log.commits
        with pytest.raises(ProviderRejected, match=r"not the intended one .*not added: .*static-mapping web"):
            s.configure([f"set {LAN} static-mapping web ip-address 192.168.1.20",
                         f"set {LAN} static-mapping web mac-address 52:54:00:12:34:56",
                         f"set {LAN} static-mapping db ip-address 192.168.1.21",
                         f"set {LAN} static-mapping db mac-address 52:54:00:12:34:57"], before=stale)
    assert sim.log.commits == commits and "static-mapping db" not in sim.active_commands()
    # the session's own logout (`exit` from op mode, sent when the `with` ends) may or may not be logged yet
    cmds = [c for c in sim.log.commands() if c != "exit"]
    assert cmds[-2:] == ["discard", "exit discard"]


def test_lines_the_model_cannot_apply_are_discarded_never_committed(sim: SimHandle) -> None:
    """The intended change is modelled while the router works through the batch; lines it cannot
    model (here: a configuration as read where `inet` is a valueless node) are discarded with the
    whole session, like a refused line, although the router took every one of them."""
    from providers.vyatta.tree import Kind, Tree, make_node

    def chain(*names: str, last: Kind) -> object:
        node = make_node(names[-1], last)
        for name in reversed(names[:-1]):
            node = make_node(name, Kind.TAG if name == "host-name" else Kind.NODE, [node])
        return node

    inet = chain("system", "static-host-mapping", "host-name", "nas.lab.example", "inet", last=Kind.FLAG)
    odd = Tree(make_node("", Kind.NODE, [inet]))  # type: ignore[list-item]
    before_saved, before_active = sim.saved_text(), sim.active_commands()
    lines = [f"set {LAN} static-mapping web ip-address 192.168.1.20",
             "set system static-host-mapping host-name nas.lab.example inet 192.168.1.30"]
    with session_for(sim) as s:
        with pytest.raises(ProviderRejected, match="does not apply to the configuration as read") as err:
            s.configure(lines, before=odd)
        assert "192.168.1.30" not in s.show_commands()
    assert "discarded and nothing was saved" in str(err.value)
    cmds = sim.log.commands()
    at = cmds.index(lines[-1])  # every line reached the router, then the session was discarded
    assert cmds[at - 1] == lines[0] and cmds[at + 1 : at + 3] == ["discard", "exit discard"]
    assert "compare" not in cmds and not any(c.startswith("commit") for c in cmds)
    assert sim.log.commits == 0 and sim.saved_text() == before_saved
    assert sim.active_commands() == before_active


def test_what_ansibles_edgeos_plugins_send_is_taken_as_the_router_takes_it(sim: SimHandle) -> None:
    """The bench's Ansible row drives this simulator with community.network's edgeos terminal and
    cliconf plugins (edgeos.md §3.8, §6): paging off by `export VYATTA_PAGER=cat` + `stty rows 10000`,
    the configuration read with `show configuration commands|cat`, `compare saved` after a commit."""
    with session_for(sim) as s:
        assert s.run_op("export VYATTA_PAGER=cat") == ""
        assert s.run_op("stty rows 10000") == ""
        assert s.run_op("show configuration commands|cat") == s.show_commands()
        assert s.compare_saved().diff == ""
