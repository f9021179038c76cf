"""Whether a word is an English verb in its base form ("describe", "frame", "hand"): what
an imperative starts with. The lexicon is lemminflect's, so the rules need no verb list of
their own.
"""

from __future__ import annotations

from functools import lru_cache

import lemminflect


@lru_cache(maxsize=8192)
def is_base_verb(word: str) -> bool:
    lowered = word.lower()
    return lowered in lemminflect.getAllLemmas(lowered, upos="VERB").get("VERB", ())


# lemminflect reads its lexicon on first use: at import (startup), not in the first job,
# whose thread would hold the GIL while it decodes, and the event loop would wait.
is_base_verb("describe")
