"""An event file written by TensorBoard's own Python writer, for the Swift writer's tests.

Run by hand from the repository root (needs `pip install tensorboard`):

    python3 Scripts/make_tracking_fixtures.py

Writes Tests/TrackingTests/Fixtures/python.tfevents: TensorBoard's EventFileWriter (the writer
torch.utils.tensorboard and tensorboardX build on) with its first `brain.Event:2` record, then three
events of scalar summaries (simple_value) at fixed wall times and steps, among them step 0 (which
protobuf leaves out), a negative value, a tag with a slash and a non-ASCII tag; and
python.tfevents.json listing what was written, for the test to compare against.
"""
import glob
import json
import os
import shutil
import tempfile

from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.summary.writer.event_file_writer import EventFileWriter

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "TrackingTests", "Fixtures")

EVENTS = [
    (1700000000.25, 0, [("train/reward", 0.5), ("train/loss", -0.0123)]),
    (1700000001.5, 1, [("train/reward", 0.625), ("eval/pass@1", 0.25), ("train/rewards/math_answer/mean", 1e-8)]),
    (1700000002.75, 300, [("train/kl", 3.25e4), ("train/é", -1.0)]),
]


def main():
    tmp = tempfile.mkdtemp()
    writer = EventFileWriter(tmp)
    for wall, step, scalars in EVENTS:
        summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=t, simple_value=v) for t, v in scalars])
        writer.add_event(event_pb2.Event(wall_time=wall, step=step, summary=summary))
    writer.close()
    (path,) = glob.glob(os.path.join(tmp, "events.out.tfevents.*"))
    os.makedirs(OUT, exist_ok=True)
    shutil.copy(path, os.path.join(OUT, "python.tfevents"))
    with open(os.path.join(OUT, "python.tfevents.json"), "w") as f:
        json.dump([{"wall_time": w, "step": s, "scalars": [[t, v] for t, v in sc]} for w, s, sc in EVENTS], f, indent=1, ensure_ascii=False)
    shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
