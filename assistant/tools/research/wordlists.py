"""The word lists research compares requests with: function words, the words of a request's
form (generic), articles, and British spellings folded onto American ones.

Kept apart from assistant/tools/research/terms.py so a list can grow without touching the
matching code; every list is written as people type (accents included: it is folded).
"""

from __future__ import annotations


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words that carry no topic: function words (en/es/fr), and the words people use to ask
# for a kind of content rather than a subject ("how X works", "the history of X", "three
# tips for X", "X for teenagers"). The facet words are the planner's business, not the gate's.
STOPWORDS: dict[str, frozenset[str]] = {
    "en": _words(
        "a an the and or but nor of in on at to for from by with without about into onto over "
        "under between through during before after above below up down out off again is are "
        "was were be been being am do does did doing have has had having it its it's this that "
        "these those there here who whom whose which what when where why how all any both each "
        "few more most other some such no not only own same so than too very can could will "
        "would shall should may might must i me my we our you your he him his she her they them "
        "their as if then also just like vs versus"
    ),
    "es": _words(
        "el la los las un una unos unas y o pero de del en a al por para con sin sobre entre "
        "es son fue era ser estar está están como cómo qué que por qué cuál cuándo dónde quién "
        "se su sus lo le les mi tu nuestro este esta estos estas ese esa muy más menos también "
        "no sí ya hay"
    ),
    "fr": _words(
        "le la les l un une des du de d et ou mais en à au aux par pour avec sans sur sous dans "
        "entre est sont était être a ont avoir comme comment que qu quoi pourquoi quel quelle "
        "quand où qui se sa son ses ce cette ces leur leurs mon ton notre très plus moins aussi "
        "ne pas oui y il elle ils elles on nous vous"
    ),
}
GENERIC: dict[str, frozenset[str]] = {
    "en": _words(
        "work works working worked explain explained explainer guide introduction intro "
        "overview basics history historical story origin origins example examples fact facts "
        "figure figures number numbers statistics stats tip tips way ways thing things reason "
        "reasons idea ideas kind kinds type types best better good great top simple simply "
        "easy quick short long really actually everything anything something one two three "
        "four five six seven eight nine ten first new make makes happen happens "
        "mean means matter matters need needs use uses used kids children teenagers teens "
        "beginners students adults everyone people dummies "
        # the nouns of a list article: "three habits for better sleep" is about sleep
        "habit habits step steps secret secrets benefit benefits mistake mistakes myth myths "
        "hack hacks lesson lessons rule rules sign signs "
        # the verbs of a question: "how octopuses change colour" is about octopuses' colour
        "change changes changed changing form forms formed forming rise rises rising rose "
        "made get gets grow grows turn turns become becomes occur occurs come comes go goes "
        "keep keeps start starts stop stops cause causes caused affect affects help helps "
        "look looks effect effects impact role importance"
    ),
    "es": _words(
        "funciona funcionan funcionamiento historia ejemplo ejemplos datos guía introducción "
        "consejos cosas mejor mejores niños principiantes prepara preparan hace hacen cambia "
        "cambian forma forman"
    ),
    "fr": _words(
        "fonctionne fonctionnent fonctionnement histoire exemple exemples faits guide "
        "introduction conseils choses meilleur meilleure meilleurs enfants débutants entre "
        "entrent change changent forme forment fait font"
    ),
}
# British spellings folded onto American ones (both sides get the same treatment, so the
# direction does not matter; only that "colour" and "color" meet).
VARIANTS = {
    "colour": "color", "behaviour": "behavior", "flavour": "flavor", "harbour": "harbor",
    "honour": "honor", "labour": "labor", "neighbour": "neighbor", "favour": "favor",
    "humour": "humor", "vapour": "vapor", "odour": "odor", "rumour": "rumor",
    "armour": "armor", "tumour": "tumor", "centre": "center", "metre": "meter",
    "litre": "liter", "theatre": "theater", "fibre": "fiber", "grey": "gray", "tyre": "tire",
    "aluminium": "aluminum", "aeroplane": "airplane", "defence": "defense",
    "offence": "offense", "licence": "license", "programme": "program", "mould": "mold",
    "plough": "plow", "cheque": "check", "sulphur": "sulfur", "foetus": "fetus",
    "oestrogen": "estrogen", "haemoglobin": "hemoglobin", "anaemia": "anemia",
    "paediatric": "pediatric", "manoeuvre": "maneuver", "jewellery": "jewelry",
}  # fmt: skip


ARTICLES = {"en": _words("a an the"), "es": _words("el la los las un una unos unas"),
            "fr": _words("le la les l un une des du")}
