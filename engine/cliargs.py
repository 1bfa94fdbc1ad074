"""Terraform's single-dash spellings on the command line, as aliases of netsot's documented flags.

Owns: ``TERRAFORM_FLAGS`` (the words Terraform users type with one dash) and ``rewrite`` — one pass
over argv that turns ``-out x``, ``-out=x``, ``-auto-approve`` … into ``--out x``, ``--out=x``,
``--auto-approve`` before click parses anything.
Must not: touch a value (the word after an option that takes one, even when it starts with ``-``),
anything after ``--``, or a single-dash word that is not in the table (click then reports it as
the usage error it is).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

# Terraform's flags that netsot has under the same name (``terraform plan -out=tfplan``, ``apply
# -auto-approve``, ``-target``, ``-replace``, ``-lock-timeout``, ``state push -force``, ``graph -type``…)
TERRAFORM_FLAGS = frozenset({
    "out", "auto-approve", "target", "no-color", "detailed-exitcode", "json", "refresh-only", "replace",
    "lock-timeout", "parallelism", "force", "type", "help", "version",
})


def rewrite(argv: Sequence[str], value_options: Iterable[str]) -> list[str]:
    """``argv`` with every Terraform single-dash flag spelled as netsot's ``--flag``.

    ``value_options`` are the long options that take a value (``--out``, ``--target``…): the word
    after one of them is a value and is never rewritten.
    """
    takes_value = frozenset(value_options)
    out: list[str] = []
    skip = False
    for i, word in enumerate(argv):
        if skip:
            out.append(word)
            skip = False
            continue
        if word == "--":
            out.extend(argv[i:])
            break
        word = _long(word)
        out.append(word)
        skip = word in takes_value  # "--out FILE": FILE is a value ("--out=FILE" carries its own)
    return out


def _long(word: str) -> str:
    """``-out`` → ``--out``, ``-out=x`` → ``--out=x``; anything else as it is."""
    if not word.startswith("-") or word.startswith("--") or len(word) < 3:
        return word
    name, eq, value = word[1:].partition("=")
    if name not in TERRAFORM_FLAGS:
        return word
    return f"--{name}{eq}{value}"
