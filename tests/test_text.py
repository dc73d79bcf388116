"""Teacher-facing text as a msgid with parameters: English as a str, another language where
it is shown (stations/text.py), and the hub's real messages through the Spanish catalog."""

from __future__ import annotations

import copy
import json
import pickle

import pytest

from hub.console.i18n import translations
from hub.grouping import CONFIDENCE_TREND, GOAL_PROGRESS
from hub.grouping.explain import group_word
from hub.reflections import describe
from stations.text import N_, Text, localize, text_of

SPANISH = {"badge %(badge)s is unknown": "la tarjeta %(badge)s no se conoce",
           "group %(number)d": "grupo %(number)d",
           "stayed in %(group)s": "sigue en %(group)s",
           "new": "nuevos"}


def fake_gettext(msgid: str) -> str:
    return SPANISH.get(msgid, msgid)


def test_a_text_is_its_english_reading() -> None:
    text = Text("badge %(badge)s is unknown", badge="04AB")
    assert text == "badge 04AB is unknown" and isinstance(text, str)
    assert f"refused: {text}" == "refused: badge 04AB is unknown"
    assert json.dumps({"why": text}) == '{"why": "badge 04AB is unknown"}'
    assert text.msgid == "badge %(badge)s is unknown" and text.params == {"badge": "04AB"}
    assert Text("50%% done") == "50%% done"  # no parameters: the msgid as it is
    assert N_("as it is") == "as it is"


def test_localized_translates_the_template_and_nested_texts_never_the_values() -> None:
    reason = Text("stayed in %(group)s", group=Text("group %(number)d", number=2))
    assert reason == "stayed in group 2"
    assert reason.localized(fake_gettext) == "sigue en grupo 2"
    name = Text("stayed in %(group)s", group="new")  # a name that happens to be a msgid
    assert name.localized(fake_gettext) == "sigue en new"
    assert localize("plain words", fake_gettext) == "plain words"
    assert localize(3, fake_gettext) == 3
    assert localize((Text("new"), "new"), fake_gettext) == ("nuevos", "new")
    assert Text("").localized(lambda _m: "the catalog's header") == ""


def test_joined_parts_each_in_their_language() -> None:
    parts = [Text("new"), "Owls", Text("badge %(badge)s is unknown", badge="04AB")]
    joined = Text.joined("; ", parts)
    assert joined == "new; Owls; badge 04AB is unknown"
    assert joined.localized(fake_gettext) == "nuevos; Owls; la tarjeta 04AB no se conoce"
    assert Text.joined(" · ", []) == ""
    assert Text.joined("%", ["a", "b"]) == "a%b"


def test_map_params_reaches_nested_texts() -> None:
    reason = Text.joined("; ", [Text("stayed in %(group)s",
                                     group=Text("group %(number)d", number=1))])

    def named(value: object) -> object:
        if isinstance(value, Text) and value.msgid == "group %(number)d":
            return ["Owls"][value.params["number"] - 1]
        return value
    renamed = reason.map_params(named)
    assert renamed == "stayed in Owls" and renamed.localized(fake_gettext) == "sigue en Owls"


def test_a_text_survives_pickle_and_copy_as_a_text() -> None:
    text = Text("stayed in %(group)s", group=Text("group %(number)d", number=2))
    for again in (pickle.loads(pickle.dumps(text)), copy.deepcopy(text)):
        assert isinstance(again, Text) and again == text
        assert again.localized(fake_gettext) == "sigue en grupo 2"


def test_text_of_an_error() -> None:
    assert text_of(ValueError(Text("new"))).msgid == "new"
    assert text_of(ValueError("plain")) == "plain"
    assert not isinstance(text_of(ValueError("a", "b")), Text)


@pytest.mark.parametrize(("text", "spanish"), [
    (group_word(1), "grupo 2"),
    (describe({CONFIDENCE_TREND: -0.7, GOAL_PROGRESS: 0.25}),
     "confianza bajando (-0.7) · metas 25%"),
])
def test_the_hubs_messages_read_in_spanish_from_the_shipped_catalog(text: Text,
                                                                    spanish: str) -> None:
    assert text.localized(translations("es").gettext) == spanish
    assert text.localized(translations("en").gettext) == str(text)
