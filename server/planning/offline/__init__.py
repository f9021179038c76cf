"""The offline planning engine as a package; ``engine.py`` says what it is.

places and patterns: sentences, headings and table rows, and what a sentence requires;
distill: the requirements; facts: what the plan is fitted to; templating renders the
per-kind plan templates (data in ``templates/<language>/``) into stages; risks and
assembly: the plan itself.
"""

from server.planning.offline.distill import distill_requirements
from server.planning.offline.engine import OfflineEngine
from server.planning.offline.facts import AssignmentKind, Facts, derive_facts
from server.planning.offline.values import HARD_KINDS, Range

__all__ = [
    "HARD_KINDS",
    "AssignmentKind",
    "Facts",
    "OfflineEngine",
    "Range",
    "derive_facts",
    "distill_requirements",
]
