"""The words a group may be called in front of the class without saying anything about it.

An allow-list, not a deny-list: a name teachers give a group ("Intervention", "Nurture
group", "Title I", "Booster", "Newcomers") can say which programme, need or level its members
are in in words nobody can list in advance, so a configured name reaches the projector and the
stations only when **every** word of it comes from the neutral vocabulary below (animals,
colours, plants, shapes, space, weather, places, numbers and letters, and a few joining words:
"Red foxes", "Team 3", "The North Stars"). Words that rank, even in neutral dress, are
left out: medals (gold, silver, bronze), ordinals and Greek letters (first, alpha), the slow
and fast animals (snails, cheetahs), summits and peaks. Anything else is shown as "Group N",
unless the teacher gave the group an explicit public name (:mod:`hub.privacy`).
"""

from __future__ import annotations

import re

_ANIMALS = """
ant ape badger bat bear beaver bee beetle bird bison boar buffalo bull butterfly camel cat
caterpillar chick chicken cobra cod condor cougar cow coyote crab crane cricket crow
cub deer dingo dog dolphin donkey dove dragon dragonfly duck eagle eel elephant elk emu falcon
ferret finch firefly fish flamingo fox frog gazelle gecko giraffe goat goldfish goose gorilla
grasshopper gull hamster hare hawk hedgehog heron hippo hornet horse hummingbird husky ibis
iguana jackal jaguar jay jellyfish kangaroo kestrel kingfisher kitten kiwi koala ladybird
ladybug lamb lemur leopard lion lizard llama lobster lynx macaw magpie mammoth manatee meerkat
mole monkey moose moth mouse mule newt octopus orca ostrich otter owl ox panda panther parrot
peacock pelican penguin pig pigeon pony porcupine possum puffin puma puppy rabbit raccoon ram
raven reindeer rhino robin salmon seahorse seal shark sheep shrimp skunk snake
sparrow spider squid squirrel starfish stingray stork swallow swan tiger toad toucan trout
turkey turtle unicorn viper vulture walrus wasp weasel whale wolf wolves wombat woodpecker
wren yak zebra
"""
_COLOURS = """
amber aqua azure beige black blue brown coral cream crimson cyan emerald
green grey gray indigo ivory jade lavender lemon lilac lime magenta maroon mint navy ochre
olive orange peach pink plum purple red rose ruby saffron sapphire scarlet sky tan teal
turquoise violet white yellow
"""
_PLANTS = """
acorn apple ash aspen bamboo basil birch blossom bluebell bud buttercup cactus cedar cherry
chestnut clover cypress daffodil daisy dandelion elm fern fig fir flower hazel heather holly
iris ivy juniper lavender leaf lilac lily lotus magnolia maple marigold mint moss oak olive
orchid palm pansy pear pine poppy redwood reed rose rowan sage seed sequoia spruce sunflower
thistle tulip violet willow yew
"""
_SHAPES = """
arrow circle cone cross cube cylinder diamond heart hexagon kite octagon oval pentagon prism
pyramid rectangle rhombus ring sphere spiral square star trapezoid triangle
"""
_SPACE = """
asteroid astronaut aurora comet cosmos earth eclipse galaxy jupiter mars mercury meteor
milky moon nebula neptune orbit planet pluto rocket satellite saturn sky space star sun
uranus venus way
"""
_WEATHER = """
blizzard breeze cloud drizzle fog frost hail hurricane ice lightning mist rain rainbow snow
snowflake storm sunshine sunny thunder tornado typhoon wind windy
"""
_PLACES = """
bay beach canyon cape cave city cliff coast creek delta desert east field forest garden
glacier harbour harbor hill island jungle lagoon lake meadow mesa mountain north oasis ocean
park pond prairie reef ridge river sea shore south spring tundra valley village
volcano waterfall west woods
"""
_NUMBERS = """
zero one two three four five six seven eight nine ten eleven twelve
"""
#: Words that only join or frame the others: "Team 3", "The Red Foxes", "Group of Owls".
_JOINING = "a an and of the group team crew table club squad"

NEUTRAL_WORDS: frozenset[str] = frozenset(" ".join(
    (_ANIMALS, _COLOURS, _PLANTS, _SHAPES, _SPACE, _WEATHER, _PLACES, _NUMBERS, _JOINING)
).split())

_WORD = re.compile(r"[^\W_]+")


def _neutral_word(word: str) -> bool:
    word = word.lower()
    if word.isdigit() or (len(word) == 1 and word.isalpha()):
        return True  # "Team 3", "Group B"
    if word in NEUTRAL_WORDS:
        return True
    # plurals: foxes, owls, bunnies, wolves (listed), geese is not: "goose" is enough
    for ending, stem in (("ies", "y"), ("es", ""), ("s", "")):
        if word.endswith(ending) and word[:-len(ending)] + stem in NEUTRAL_WORDS:
            return True
    return False


def is_neutral(name: str) -> bool:
    """True if every word of ``name`` is a neutral word (and it has at least one)."""
    words = _WORD.findall(name)
    return bool(words) and all(_neutral_word(w) for w in words)
