"""Personal data in the request itself ("... contact me at jane@example.org").

The brief's words become the job's title, the brief a person is shown, the progress lines
and the log lines, so the values are replaced by placeholders ("[email]") before the job
exists; the person is told once, in one line, and the job's configuration keeps the counts
by kind (never a value) so a resumed or listed job can say why its title has placeholders.
"""

from __future__ import annotations

from collections import Counter

from assistant.content import Brief
from assistant.tools.quality.pii import NAMES, Detector, replace

PRIVATE_FIELDS = ("topic", "notes", "audience")  # the brief's free text, as the person wrote it
CONFIG_KEY = "request_personal_data"


def scrub_brief(brief: Brief, detector: Detector) -> Counter[str]:
    """Replace the personal data in ``brief``'s free text by placeholders, in place (the
    caller goes on to show and run this same brief), and count it by kind."""
    counts: Counter[str] = Counter()
    for name in PRIVATE_FIELDS:
        text = getattr(brief, name)
        found = detector.find(text)
        if found:
            counts.update(m.kind for m in found)
            setattr(brief, name, replace(text, found))
    return counts


def request_notice(counts: Counter[str] | dict[str, int]) -> str | None:
    """The one line that tells the person, or None when the request held none."""
    kinds = [NAMES[k][0] for k, n in counts.items() if n]
    if not kinds:
        return None
    named = [("an " if k[0] in "aeiouAEIOU" else "a ") + k for k in kinds]
    listed = named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]
    pronoun = "it is" if sum(counts.values()) == 1 else "they are"
    return f"your request contains {listed}; {pronoun} kept out of titles and logs"
