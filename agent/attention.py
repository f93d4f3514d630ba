"""Looking at the screen or away, per student across captures.

One reading is a moment: a glance down at notes is not "away". A student becomes "away" once
their readings have been away for AWAY_AFTER in a row, and is back at the first reading at the
screen. And "at the screen" is each student's own: a webcam beside or below the screen makes a
student who reads the slides look turned, so readings are measured from the student's usual
pose (the median of their recent ones), which may sit at most BASELINE_LIMIT off frontal: a
student who looks away most of the lecture does not make "away" their screen.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from core.head_pose import AWAY, SCREEN, HeadPose

AWAY_AFTER = timedelta(seconds=15)
BASELINE_READINGS = 30  # the usual pose: the median of the student's last this-many readings ...
BASELINE_MIN = 5  # ... once this many exist (before: frontal)
BASELINE_LIMIT = HeadPose(yaw=25.0, pitch=20.0)


@dataclass
class _Student:
    poses: deque = field(default_factory=lambda: deque(maxlen=BASELINE_READINGS))
    away_since: datetime | None = None  # first of the current run of away readings
    state: str = SCREEN


def usual_pose(poses) -> HeadPose | None:
    """The student's own "at the screen": the median of their readings, within BASELINE_LIMIT."""
    if len(poses) < BASELINE_MIN:
        return None
    yaw, pitch = np.median([(p.yaw, p.pitch) for p in poses], axis=0)
    return HeadPose(
        float(np.clip(yaw, -BASELINE_LIMIT.yaw, BASELINE_LIMIT.yaw)),
        float(np.clip(pitch, -BASELINE_LIMIT.pitch, BASELINE_LIMIT.pitch)),
    )


class AttentionTracker:
    """`update(key, at, pose)` -> "screen" | "away" for that student after this capture."""

    def __init__(self, away_after: timedelta = AWAY_AFTER):
        self.away_after = away_after
        self.students: dict[str, _Student] = {}

    def update(self, key: str, at: datetime, pose: HeadPose | None) -> str | None:
        """None when there is no pose (camera off, no face, a flat crop): that capture neither
        continues nor ends a run of away readings."""
        if pose is None:
            return None
        student = self.students.setdefault(key, _Student())
        now = pose.looking(usual_pose(student.poses))
        student.poses.append(pose)
        if now == SCREEN:
            student.away_since, student.state = None, SCREEN
        else:
            student.away_since = student.away_since or at
            if at - student.away_since >= self.away_after:
                student.state = AWAY
        return student.state
