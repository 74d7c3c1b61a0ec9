"""A camera's decisions over samples, as `vision run` and `vision analyze` make them: dwell,
frame filters and the median, zones by the box's bottom centre; and 智能核查's verdict."""

from __future__ import annotations

from typing import Any

from vision.config import CameraIn, VisionConfig
from vision.decoders import Detection
from vision.pipeline import CameraWatch, Recheck

ZONE = [[100, 100], [300, 100], [300, 300], [100, 300]]


def camera(**rule: Any) -> CameraIn:
    declared = {"labels": ["car"], "category_code": "E09009", "dwell_s": 20, "min_frames": 3}
    declared.update(rule)
    return CameraIn.model_validate(
        {
            "code": "c1",
            "name": "路口",
            "source": "rtsp://x/1",
            "width": 640,
            "height": 480,
            "lon": 120.0,
            "lat": 36.0,
            "zones": [{"name": "禁停区", "points": ZONE, "rules": [declared]}],
        }
    )


def car(x: float = 150, y: float = 200, score: float = 0.9, label: str = "car") -> Detection:
    return Detection(x, y, x + 60, y + 40, score, label)


def run(watch: CameraWatch, samples: list[list[Detection]], every: float = 5) -> list[Any]:
    fired = []
    for n, detections in enumerate(samples):
        fired += watch.step(detections, n * every)
    return fired


def test_it_fires_once_when_the_dwell_time_has_passed() -> None:
    watch = CameraWatch(camera(), VisionConfig())
    fired = run(watch, [[car()]] * 10)
    assert len(fired) == 1
    (one,) = fired
    assert (one.since, one.at, one.zone) == (0, 20, "禁停区")  # the fifth sample, 20 s on


def test_the_box_bottom_centre_decides_inside_or_out() -> None:
    # Its top is in the zone, its feet below it: a car parked on the road, not the pavement.
    assert run(CameraWatch(camera(), VisionConfig()), [[car(150, 270)]] * 10) == []
    assert len(run(CameraWatch(camera(), VisionConfig()), [[car(150, 250)]] * 10)) == 1


def test_frame_filters_and_the_median_hold_weak_or_small_detections_back() -> None:
    weak = [[car(score=0.45)]] * 10  # under min_score: no sample counts
    assert run(CameraWatch(camera(), VisionConfig()), weak) == []
    mixed = [[car(score=s)] for s in (0.9, 0.55, 0.55, 0.55, 0.9, 0.55)]  # median 0.55 < 0.6
    assert run(CameraWatch(camera(), VisionConfig()), mixed) == []
    small = [[car()]] * 10
    assert run(CameraWatch(camera(min_area=5000), VisionConfig()), small) == []  # 60×40
    other = [[car(label="truck")]] * 10
    assert run(CameraWatch(camera(), VisionConfig()), other) == []


def test_leaving_the_zone_starts_the_dwell_again_and_a_short_miss_does_not() -> None:
    # The same car (its box overlaps) pulls forward: its feet leave the zone, then it backs in.
    out = Detection(150, 200, 210, 310, 0.9, "car")
    samples = [[car()], [car()], [car()], [out], [car()], [car()], [car()], [car()]]
    watch = CameraWatch(camera(), VisionConfig(track_iou=0.2))
    assert run(watch, samples) == []
    assert len(watch.tracker.tracks) == 1  # one object all along
    missed = [[car()], [car()], [], [car()], [car()]]  # one sample unseen
    assert len(run(CameraWatch(camera(), VisionConfig()), missed)) == 1


def test_the_recheck_passes_on_absent_samples_in_a_row_and_fails_on_present_ones() -> None:
    watch = CameraWatch(camera(), VisionConfig())
    zone = watch.zones[0]
    gone = Recheck(zone, 0, needed=3)
    verdicts = [gone.judge(d)[0] for d in ([], [car()], [], [], [])]
    assert verdicts == [None, None, None, None, True]  # a car in between restarts the count
    still = Recheck(zone, 0, needed=3)
    assert [still.judge([car()])[0] for _ in range(3)] == [None, None, False]
    assert still.judge([car()])[1] == [car()]
