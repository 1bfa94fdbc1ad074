"""YAML with positions: parse a document and remember where every key and value is.

Owns: the safe YAML parse, duplicate/non-string key detection, the path → (line, column)
index used to locate configuration problems, and turning paths into readable keys.
Must not: know the netsot configuration shape (that is ``engine.config.load``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from core.errors import ConfigError, ConfigProblem

Path_ = tuple[str | int, ...]
Pos = tuple[int, int]

STR_TAG = "tag:yaml.org,2002:str"
MERGE_TAG = "tag:yaml.org,2002:merge"
MAX_NODES = 200_000  # alias bombs expand exponentially; a real config has a few hundred nodes


def key_text(path: Path_) -> str:
    """``("networks", 0, "prefix")`` → ``networks[0].prefix``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)  # str(): YAML allows null or number keys
    return out


@dataclass
class Document:
    """A parsed YAML file: its data plus where each key and value was written."""

    file: str
    data: Any = None
    keys: dict[Path_, Pos] = field(default_factory=dict)
    values: dict[Path_, Pos] = field(default_factory=dict)
    problems: list[ConfigProblem] = field(default_factory=list)

    def where(self, path: Path_, *, at_key: bool = False) -> Pos | None:
        """The position of ``path`` (its key, or its value); the nearest known parent otherwise."""
        probe = tuple(path)
        if at_key and probe in self.keys:
            return self.keys[probe]
        while True:
            if probe in self.values:
                return self.values[probe]
            if probe in self.keys:
                return self.keys[probe]
            if not probe:
                return None
            probe = probe[:-1]

    def problem(self, path: Path_, message: str, *, at_key: bool = False) -> ConfigProblem:
        pos = self.where(path, at_key=at_key)
        line, column = pos if pos else (None, None)
        return ConfigProblem(self.file, line, column, key_text(path), message)


def _pos(node: Node) -> Pos:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _index(node: Node, path: Path_, doc: Document, active: set[int], budget: list[int]) -> None:
    budget[0] -= 1
    if budget[0] < 0:
        raise ConfigError([doc.problem((), "the document is too large (aliases expand too far)")])
    doc.values.setdefault(path, _pos(node))
    if id(node) in active:
        line, column = _pos(node)
        raise ConfigError([ConfigProblem(doc.file, line, column, key_text(path), "recursive YAML alias")])
    active.add(id(node))
    if isinstance(node, MappingNode):
        first: dict[str, int] = {}
        for knode, vnode in node.value:
            if knode.tag == MERGE_TAG:
                continue  # ``<<: *base`` — the merged keys keep their own positions
            if not isinstance(knode, ScalarNode) or knode.tag != STR_TAG:
                line, column = _pos(knode)
                text = knode.value if isinstance(knode, ScalarNode) else "(a collection)"
                doc.problems.append(
                    ConfigProblem(doc.file, line, column, key_text(path),
                                  f"key {text!r} is not a string (quote it)")
                )
                continue
            key = knode.value
            child = (*path, key)
            if key in first:
                line, column = _pos(knode)
                doc.problems.append(
                    ConfigProblem(doc.file, line, column, key_text(child),
                                  f"duplicate key {key!r} (first given on line {first[key]})")
                )
            else:
                first[key] = knode.start_mark.line + 1
                doc.keys[child] = _pos(knode)
                doc.values[child] = _pos(vnode)
            _index(vnode, child, doc, active, budget)
    elif isinstance(node, SequenceNode):
        for i, item in enumerate(node.value):
            _index(item, (*path, i), doc, active, budget)
    active.discard(id(node))


def parse(text: str, file: str) -> Document:
    """Parse one YAML document; raises ConfigError for syntax errors and empty files.

    Duplicate or non-string keys are collected in ``Document.problems`` (the caller reports
    them together with everything else it finds).
    """
    doc = Document(file)
    try:
        loader = yaml.SafeLoader(text)  # the reader rejects control characters right here
    except yaml.YAMLError as exc:
        raise ConfigError([ConfigProblem(file, None, None, "", f"invalid YAML: {exc}")]) from None
    try:
        node = loader.get_single_node()
        if node is None:
            raise ConfigError([ConfigProblem(file, 1, 1, "", "the file is empty (expected a mapping with "
                                                             "version, providers, networks, hosts)")])
        _index(node, (), doc, set(), [MAX_NODES])
        doc.data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = ", ".join(p for p in (exc.context, exc.problem) if p)
        line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
        raise ConfigError([ConfigProblem(file, line, column, "", f"invalid YAML: {what}")]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([ConfigProblem(file, None, None, "", f"invalid YAML: {exc}")]) from None
    finally:
        loader.dispose()
    return doc
