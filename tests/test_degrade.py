"""Meeting-tile degradations (training/degrade.py): deterministic under a seed, and each does
what its name says to a face."""

from __future__ import annotations

import numpy as np
import pytest

from training.augment import augment_batch
from training.degrade import CONDITIONS, degrade_set, downscaled, jpeg, low_light, masked


@pytest.fixture(scope="module")
def faces() -> np.ndarray:
    """Smooth 48x48 'faces' with detail at several scales (a seeded random field, blurred)."""
    import cv2

    rng = np.random.default_rng(7)
    return np.stack([cv2.GaussianBlur(rng.integers(0, 256, (48, 48), dtype=np.uint8), (0, 0), 1.0) for _ in range(8)])


@pytest.mark.parametrize("condition", list(CONDITIONS))
def test_every_condition_is_reproducible_by_its_seed(faces, condition):
    first, again = degrade_set(faces, condition, seed=3), degrade_set(faces, condition, seed=3)
    assert first.shape == faces.shape and first.dtype == np.uint8
    assert np.array_equal(first, again)


def test_random_conditions_change_with_the_seed(faces):
    assert not np.array_equal(degrade_set(faces, "low light", 1), degrade_set(faces, "low light", 2))
    assert np.array_equal(degrade_set(faces, "clean", 1), faces)


def test_smaller_faces_lose_more_detail(faces):
    def detail_lost(px: int) -> float:
        return float(np.abs(downscaled(faces[0], px).astype(int) - faces[0]).mean())

    assert detail_lost(20) > detail_lost(28) > detail_lost(36) > 0


def test_jpeg_low_light_and_mask_do_what_they_say(faces):
    face = faces[0]
    assert np.abs(jpeg(face, 20).astype(int) - face).mean() > np.abs(jpeg(face, 90).astype(int) - face).mean()
    assert low_light(face, np.random.default_rng(0)).mean() < 0.6 * face.mean()
    covered = masked(face, level=200)
    assert np.array_equal(covered[:25], face[:25])  # eyes and nose untouched
    assert (covered[34:44, 20:28] == 200).all()  # mouth and chin covered


def test_the_meeting_profile_degrades_some_faces_and_is_seeded(faces):
    batch = np.repeat(faces[:1], 64, axis=0)
    a = augment_batch(batch, np.random.default_rng(5), "meeting")
    b = augment_batch(batch, np.random.default_rng(5), "meeting")
    assert np.array_equal(a, b)
    light = augment_batch(batch, np.random.default_rng(5), "standard")
    assert not np.array_equal(a, light)


def test_the_expert_profile_degrades_more_faces_than_the_meeting_one(faces):
    """`meeting-expert` puts every face through the meeting conditions, `meeting` about half:
    fewer of its faces keep the fine detail the light profile leaves."""
    import cv2

    batch = np.repeat(faces[:1], 200, axis=0)

    def detail(profile: str) -> np.ndarray:
        out = augment_batch(batch, np.random.default_rng(9), profile).astype(np.float32)
        return np.array([(face - cv2.GaussianBlur(face, (0, 0), 1.0)).std() for face in out])

    sharp = 0.8 * np.median(detail("light"))
    kept = {profile: int((detail(profile) > sharp).sum()) for profile in ("light", "meeting", "meeting-expert")}
    assert kept["meeting-expert"] < kept["meeting"] < kept["light"], kept


def test_the_meeting_view_is_the_same_every_run(faces):
    from training.degrade import meeting_view

    first = meeting_view(faces)
    assert np.array_equal(first, meeting_view(faces)) and first.shape == faces.shape
    assert not np.array_equal(first, meeting_view(faces, seed=1))


def test_the_codec_profile_codes_about_half_the_faces_and_nothing_else(faces):
    """`codec` re-codes about half its faces as JPEG (8x8 block edges stand out) and, unlike
    `meeting`, never shrinks or darkens one: its mean grey level stays the light profile's."""
    from core.face_quality import MEASURES, quality_measures

    block = MEASURES.index("8x8 block edges against all edges (JPEG)")
    batch = np.repeat(faces[:1], 200, axis=0)
    light, codec = (augment_batch(batch, np.random.default_rng(4), profile) for profile in ("light", "codec"))
    blocky = np.quantile(quality_measures(light)[:, block], 0.9)
    share = float((quality_measures(codec)[:, block] > blocky).mean())
    assert 0.3 < share < 0.7, share
    assert abs(codec.mean() - light.mean()) < 3
