"""The configuration schema is assembled from the core part and every system's fragment."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from engine.config import schema as configschema
from providers import registry

ROOT = Path(__file__).resolve().parents[3]


def test_the_shipped_schema_is_current() -> None:
    """``schemas/config.schema.json`` is what the registry assembles (``python -m engine.config.schema``)."""
    assert configschema.is_current(), "stale: run `python -m engine.config.schema` and commit the file"


def test_check_mode_exits_1_when_stale(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    stale = tmp_path / "config.schema.json"
    stale.write_text("{}\n")
    monkeypatch.setattr(configschema, "SHIPPED", stale)
    assert configschema.main(["--check"]) == 1
    assert configschema.main([]) == 0 and configschema.main(["--check"]) == 0
    proc = subprocess.run([sys.executable, "-m", "engine.config.schema", "--check"], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr


def test_every_kind_contributes_its_settings_instances_and_network_part() -> None:
    schema = configschema.assemble()
    providers = schema["properties"]["providers"]
    network = schema["$defs"]["network"]["properties"]
    for kind in registry.kinds():
        assert providers["properties"][kind.name] == {"$ref": f"#/$defs/{kind.name}_settings"}
        assert f"^{kind.name}\\.[a-z][a-z0-9_-]{{0,31}}$" in providers["patternProperties"]
        assert network[kind.name]["properties"]["instance"] == {"$ref": "#/$defs/instance"}
        for secret in kind.secrets:
            assert secret in schema["$defs"][f"{kind.name}_settings"]["properties"]
    assert schema["$defs"]["sources"]["items"]["enum"] == ["config", *registry.names()]
