"""A tiny deterministic detector the tests build with `onnx`, and the pictures it sees.

The model takes frames as the YOLO family do and answers in their layouts. It "sees" pure red
as a car and pure blue as a person (COCO's labels 2 and 0): per 32×32 cell of its input, the
score is how red (or blue) the cell is, and the box is the cell. So a red square drawn over
exactly one cell is one car, found where it was drawn, with a score near 1; grey is nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np
import numpy.typing as npt
import onnx
from onnx import TensorProto, helper, numpy_helper

Layout = Literal["yolox", "yolov8"]
SIZE = 416
CELL = 32
CLASSES = 80
CAR, PERSON = 2, 0
GREY = (114, 114, 114)
RED = (0, 0, 255)  # BGR
BLUE = (255, 0, 0)


def _const(name: str, value: npt.NDArray[Any]) -> onnx.TensorProto:
    return numpy_helper.from_array(value.astype(np.float32), name)


def build(path: Path, *, layout: Layout = "yolox", batch: int | None = None) -> Path:
    """Write the model: YOLOX's raw head (N, 3549, 85) taking BGR 0–255, or YOLOv8's
    (N, 84, 3549) taking RGB 0–1. `batch` fixes the batch dimension (None: free)."""
    rgb = layout == "yolov8"
    r_at, b_at = (0, 2) if rgb else (2, 0)
    unit = 1.0 if rgb else 1 / 255
    n_small = (SIZE // 8) ** 2 + (SIZE // 16) ** 2
    cells = (SIZE // CELL) ** 2
    cols = 4 + CLASSES + (0 if rgb else 1)
    car = np.zeros((1, CLASSES), np.float32)
    car[0, CAR] = 1
    person = np.zeros((1, CLASSES), np.float32)
    person[0, PERSON] = 1
    gy, gx = np.meshgrid(np.arange(SIZE // CELL), np.arange(SIZE // CELL), indexing="ij")
    centres = ((np.stack((gx, gy), -1).reshape(1, cells, 2) + 0.5) * CELL).astype(np.float32)
    per_layout = (
        [_const("centres", centres), _const("wh", np.full((1, cells, 2), float(CELL)))]
        if rgb
        else [_const("half", np.full((1, 1, 2), 0.5))]
    )
    inits = [
        *per_layout,
        _const("unit", np.array(unit)),
        _const("car", car),
        _const("person", person),
        _const("z1x2", np.zeros((1, 2))),
        _const("zcols", np.zeros((1, cols))),
        numpy_helper.from_array(np.array([0, -1, 1], np.int64), "flat"),
    ]
    n = helper.make_node
    nodes = [
        n("Split", ["images"], ["c0", "c1", "c2"], axis=1, num_outputs=3),
        n("Max", ["c1", f"c{b_at}"], ["not_r"]),
        n("Max", ["c1", f"c{r_at}"], ["not_b"]),
        n("Sub", [f"c{r_at}", "not_r"], ["r_raw"]),
        n("Sub", [f"c{b_at}", "not_b"], ["b_raw"]),
        n("Relu", ["r_raw"], ["r_pos"]),
        n("Relu", ["b_raw"], ["b_pos"]),
        n("Mul", ["r_pos", "unit"], ["red"]),
        n("Mul", ["b_pos", "unit"], ["blue"]),
    ]
    for stride in (8, 16, CELL):
        for colour in ("red", "blue"):
            nodes += [
                n(
                    "AveragePool",
                    [colour],
                    [f"{colour}{stride}p"],
                    kernel_shape=[stride, stride],
                    strides=[stride, stride],
                ),
                n("Reshape", [f"{colour}{stride}p", "flat"], [f"{colour}{stride}"]),
            ]
    nodes += [
        # The finer strides see nothing: one box per object, the 32-pixel cell.
        n("MatMul", ["red8", "zcols"], ["head8"]),
        n("MatMul", ["red16", "zcols"], ["head16"]),
        n("Max", ["red32", "blue32"], ["obj"]),
        n("MatMul", ["red32", "car"], ["cls_car"]),
        n("MatMul", ["blue32", "person"], ["cls_person"]),
        n("Add", ["cls_car", "cls_person"], ["cls"]),
        n("MatMul", ["obj", "z1x2"], ["zero2"]),
    ]
    if rgb:  # Ultralytics: boxes in input pixels, class scores only
        nodes += [
            n("Add", ["zero2", "centres"], ["xy"]),
            n("Add", ["zero2", "wh"], ["box_wh"]),
            n("Concat", ["xy", "box_wh", "cls"], ["head32"], axis=2),
        ]
    else:  # YOLOX: offsets in the cell, log-sizes in strides, objectness, class scores
        nodes += [
            n("Add", ["zero2", "half"], ["xy"]),
            n("Concat", ["xy", "zero2", "obj", "cls"], ["head32"], axis=2),
        ]
    nodes.append(n("Concat", ["head8", "head16", "head32"], ["rows"], axis=1))
    total = n_small + cells
    if rgb:
        nodes.append(n("Transpose", ["rows"], ["output"], perm=[0, 2, 1]))
        out_shape = [batch or "N", cols, total]
    else:
        nodes.append(n("Identity", ["rows"], ["output"]))
        out_shape = [batch or "N", total, cols]
    graph = helper.make_graph(
        nodes,
        "tiny",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [batch or "N", 3, SIZE, SIZE])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, out_shape)],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 9  # onnxruntime 1.31 refuses onnx 1.23's default IR 14
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def frame(
    *, squares: tuple[tuple[int, int, tuple[int, int, int]], ...] = (), size: int = SIZE
) -> npt.NDArray[np.uint8]:
    """A grey frame with squares drawn over whole cells: (cell x, cell y, BGR colour). A frame
    `size` pixels wide scales the cells with it (the model sees it letterboxed)."""
    image = np.full((size, size, 3), GREY, np.uint8)
    side = size * CELL // SIZE
    for gx, gy, colour in squares:
        image[gy * side : (gy + 1) * side, gx * side : (gx + 1) * side] = colour
    return image


def jpeg(image: npt.NDArray[np.uint8]) -> bytes:
    """The frame as a camera's snapshot would send it."""
    ok, data = cv2.imencode(".jpg", image, [int(cv2.IMWRITE_JPEG_QUALITY), 95])
    assert ok
    return bytes(data.tobytes())


def video(path: Path, frames: list[npt.NDArray[np.uint8]], *, fps: float = 5.0) -> Path:
    """Write frames as an MJPEG AVI that OpenCV reads back."""
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), fps, (width, height))
    assert writer.isOpened()
    for image in frames:
        writer.write(image)
    writer.release()
    return path


def sample(folder: Path) -> None:
    """Write what a person needs to try the vision package with no camera and no model:
    the tiny model, a street video it sees a car in, and a camera file placed in the demo
    city's first grid (`python -m tests.vision.tiny DIR`)."""
    from core.config import load_settings
    from core.demo import demo_grids

    folder.mkdir(parents=True, exist_ok=True)
    model = build(folder / "tiny.onnx")
    frames = []
    fps = 5
    for n in range(30 * fps):  # 30 s: a car parked from 2 s to 20 s, one driving past
        t = n / fps
        squares = []
        if 2 <= t < 20:
            squares.append((6, 8, RED))
        if 4 <= t < 10:
            squares.append((4 + int(t - 4), 10, RED))
        frames.append(frame(squares=tuple(squares)))
    clip = video(folder / "street.avi", frames, fps=fps)
    centre = demo_grids(load_settings())[0].polygon.centroid
    lon, lat = centre.x, centre.y
    (folder / "cameras.toml").write_text(
        f"""# A camera on the demo city's first grid, showing {clip.name} (a file source).
[[camera]]
code = "demo-gate"
name = "示范区东门路口"
source = "{clip.resolve()}"
width = {SIZE}
height = {SIZE}
lon = {lon:.6f}
lat = {lat:.6f}
interval_s = 1

[[camera.zones]]
name = "禁停区"
points = [[128, 192], [320, 192], [320, 384], [128, 384]]

[[camera.zones.rules]]
labels = ["car"]
category_code = "E09009"   # 机动车乱停放
dwell_s = 10
""",
        encoding="utf-8",
    )
    print(f"CITYLOOP_VISION_MODEL={model.resolve()}")
    print(f"cityloop vision analyze {clip} --config {folder / 'cameras.toml'}")


if __name__ == "__main__":
    import sys

    sample(Path(sys.argv[1] if len(sys.argv) > 1 else "var/vision-sample"))
