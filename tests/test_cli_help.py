"""Every subcommand and every option of `stations` says what it is for in --help."""

from __future__ import annotations

import argparse

from stations.cli import build_parser


def _walk(parser: argparse.ArgumentParser, path: str):  # type: ignore[no-untyped-def]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help for a in action._choices_actions}
            for name, sub in action.choices.items():
                yield f"{path} {name}", "(the subcommand)", helps.get(name)
                yield from _walk(sub, f"{path} {name}")
        elif not isinstance(action, argparse._HelpAction):
            yield path, "/".join(action.option_strings) or action.dest, action.help


def test_every_subcommand_and_option_has_help_text() -> None:
    entries = list(_walk(build_parser(), "stations"))
    assert len(entries) > 80  # the walk reaches every subcommand's options
    missing = [f"{where}: {what}" for where, what, text in entries
               if not text or text == argparse.SUPPRESS]
    assert missing == []


def test_help_renders_for_every_subcommand(capsys) -> None:  # type: ignore[no-untyped-def]
    parser = build_parser()
    for where, what, _text in _walk(parser, "stations"):
        if what != "(the subcommand)":
            continue
        argv = [*where.split()[1:], "--help"]
        try:
            parser.parse_args(argv)
        except SystemExit as stop:
            assert stop.code == 0, argv
        assert "usage: stations" in capsys.readouterr().out
