"""One object across samples seconds apart: overlapping boxes of the same label."""

from __future__ import annotations

from vision.decoders import Detection
from vision.tracker import Tracker, iou


def box(x: float, y: float, label: str = "car", score: float = 0.9) -> Detection:
    return Detection(x, y, x + 40, y + 20, score, label)


def test_a_parked_car_keeps_its_track_and_collects_its_scores() -> None:
    tracker = Tracker(min_iou=0.3, missed=2)
    ids = [tracker.update([box(100 + n, 50)], at=n * 5.0)[0].id for n in range(4)]
    assert len(set(ids)) == 1
    track = tracker.tracks[ids[0]]
    assert (track.first_seen, track.last_seen, len(track.scores)) == (0.0, 15.0, 4)


def test_boxes_that_do_not_overlap_or_change_label_are_new_objects() -> None:
    tracker = Tracker()
    first = tracker.update([box(0, 0)], at=0)[0]
    moved = tracker.update([box(60, 0)], at=5)[0]  # no overlap: driven on
    person = tracker.update([box(60, 0, "person")], at=10)
    assert moved.id != first.id and all(t.id != moved.id for t in person)
    assert iou(box(0, 0), box(20, 0)) == (20 * 20) / (2 * 800 - 400)


def test_an_object_missed_for_a_sample_or_two_stays_and_then_is_lost() -> None:
    tracker = Tracker(missed=2)
    car = tracker.update([box(10, 10)], at=0)[0]
    tracker.update([], at=5)
    tracker.update([], at=10)
    assert tracker.update([box(11, 10)], at=15)[0].id == car.id  # two misses: still there
    for n in range(3):
        tracker.update([], at=20 + n * 5)
    assert car.id not in tracker.tracks
    assert tracker.update([box(11, 10)], at=40)[0].id != car.id


def test_two_cars_side_by_side_are_matched_each_to_its_own() -> None:
    tracker = Tracker()
    a, b = tracker.update([box(0, 0), box(45, 0)], at=0)
    seen = tracker.update([box(46, 1), box(1, 0)], at=5)
    assert {t.id for t in seen} == {a.id, b.id}
    assert tracker.tracks[a.id].box.x1 == 1 and tracker.tracks[b.id].box.x1 == 46
