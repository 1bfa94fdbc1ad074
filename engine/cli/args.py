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


# Terraform's flags that netsot takes its own way (``terraform apply -input=false -lock=false``,
# ``terraform -chdir=DIR plan``) and the ones it refuses with what it does instead. They are taken out
# of argv before click parses it, wherever they stand (before ``--``, never as an option's value).
REFUSED = {
    "var": "netsot has no input variables: everything is in netsot.yaml, and a value that changes per run "
           "is a ${env:NAME} or ${file:PATH} reference there",
    "var-file": "netsot has no input variables: everything is in netsot.yaml (--config FILE or "
                "$NETSOT_CONFIG picks another one), and a value that changes per run is a ${env:NAME} or "
                "${file:PATH} reference there",
    "destroy": "netsot never plans to delete everything it manages; to stop managing objects and leave them "
               "in place, run `netsot state rm ADDR…`; to delete one, remove its source (the guest, the "
               "hosts: entry, the NIPAP host) and run `netsot plan`",
}
_BOOLEANS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


class TerraformFlagError(ValueError):
    """A Terraform flag netsot refuses, or one with a value it cannot read (the message says which)."""


def terraform_globals(argv: Sequence[str],
                      value_options: Iterable[str]) -> tuple[list[str], dict[str, bool | str]]:
    """``argv`` without Terraform's ``-input``, ``-lock`` and ``-chdir`` (one or two dashes), and what they
    asked for: ``{"input": False, "lock": False, "chdir": "DIR"}``. ``-var``, ``-var-file`` and
    ``-destroy`` raise ``TerraformFlagError`` with what netsot does instead."""
    takes_value = frozenset(value_options)
    out: list[str] = []
    found: dict[str, bool | str] = {}
    words = list(argv)
    i = 0
    while i < len(words):
        word = words[i]
        if word == "--":
            out.extend(words[i:])
            break
        if word in takes_value:  # "--out FILE": FILE is a value, whatever it looks like
            out.extend(words[i:i + 2])
            i += 2
            continue
        name, eq, value = word.lstrip("-").partition("=") if word.startswith("-") else ("", "", "")
        if name in REFUSED and word.startswith("-"):
            raise TerraformFlagError(f"-{name} is not a netsot option: {REFUSED[name]}")
        if name in ("input", "lock") and word.startswith("-"):
            if eq and value.lower() not in _BOOLEANS:
                raise TerraformFlagError(f"-{name}={value}: the value must be true or false")
            found[name] = _BOOLEANS[value.lower()] if eq else True
        elif name == "chdir" and word.startswith("-"):
            if not eq:
                if i + 1 >= len(words):
                    raise TerraformFlagError("-chdir needs a folder: -chdir=DIR")
                i += 1
                value = words[i]
            if not value:
                raise TerraformFlagError("-chdir needs a folder: -chdir=DIR")
            found["chdir"] = value
        else:
            out.append(word)
        i += 1
    return out, found
