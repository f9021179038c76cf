"""Which task serves which hard constraint or rubric criterion (the ``serves`` ids).

Engines say it first; what no task serves goes to the task most about it (shared word
stems), and a milestone serves what its tasks serve and the criteria it covers. The
offline engine places its leftovers this way by rule; verification does it to any draft
and reports each one it had to place.
"""

from __future__ import annotations

from models.plan import Milestone, Task
from server.text.relevance import most_relevant


def _task_text(task: Task) -> str:
    return f"{task.title} {task.description} {task.deliverable} {task.done_definition}"


def _candidates(milestones: list[Milestone], ref: str) -> list[Task]:
    """A rubric criterion goes to the tasks of the milestones covering it (if they have
    any); anything else to any task."""
    covering = [t for m in milestones if ref in m.covers_criteria for t in m.tasks]
    return covering or [t for m in milestones for t in m.tasks]


def serve_unserved(milestones: list[Milestone], servable: dict[str, str]) -> list[tuple[str, Task]]:
    """Attach each id of ``servable`` (id -> what it says) that no task serves to the most
    relevant task; each attached id with its task, in ``servable``'s order."""
    served = {ref for m in milestones for task in m.tasks for ref in task.serves}
    attached: list[tuple[str, Task]] = []
    for ref, text in servable.items():
        candidates = _candidates(milestones, ref)
        if ref in served or not candidates:
            continue
        task = candidates[most_relevant(text, [_task_text(t) for t in candidates])]
        task.serves.append(ref)
        attached.append((ref, task))
    return attached


def gather_milestone_serves(milestones: list[Milestone]) -> None:
    """Each milestone serves what it said, what its tasks serve and the criteria it covers."""
    for milestone in milestones:
        milestone.serves = list(
            dict.fromkeys(
                [
                    *milestone.serves,
                    *(ref for task in milestone.tasks for ref in task.serves),
                    *milestone.covers_criteria,
                ]
            )
        )


__all__ = ["gather_milestone_serves", "serve_unserved"]
