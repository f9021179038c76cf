"""GraphQL documents more than one test module sends: the essay's startPlanning mutation,
and the jobEvents subscription with the fields of every event."""

from __future__ import annotations

from tests.support.graphql import selection

START = """
mutation Start($reprocess: Boolean! = false) {
  startPlanning(courseId: "101", assignmentId: "1001", reprocess: $reprocess) {
    started workspace { workspaceId status latestPlanJob { id reprocess } }
  }
}
"""
EVENT_FIELDS = f"""
  __typename
  ... on ProgressEvent {selection("ProgressEvent")}
  ... on HistoryGone {{ requestedLastEventId message }}
"""
JOB_EVENTS = f"""
subscription ($jobId: ID!, $lastEventId: Int) {{
  jobEvents(jobId: $jobId, lastEventId: $lastEventId) {{
    ... on Job {{ job: id status }}
    {EVENT_FIELDS}
  }}
}}
"""
