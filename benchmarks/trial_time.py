"""Where the time of one training trial goes, on volumes (3D) or images: the whole trial through the product's
engine, then each phase alone on the same data and model.

Phases: ``prepare`` (reading and resampling every training item once, what the first epoch pays into the cache),
``augment`` (one epoch of the training loader from the cache: augmentation, normalisation, batching), ``forward``
and ``backward`` (per training batch, on one fixed batch, mean over the batches timed; ``backward`` includes the
optimiser step), ``evaluate`` (one pass over the validation split). The phases are measured after the trial, in
the same process, so their sum can be held against the trial's wall time.

Run by hand from the repository root (one trial per backbone, in one process); with ``PYTHONPATH`` naming
another checkout first, it times that version of the package (the "before" of a change):

    python -m benchmarks.trial_time --data ../shared/data/vesselmnist3d/vesselmnist3d.npz \
        --backbones resnet18_3d efficientnet_lite0@3d --image-size 32 --limit 200 --epochs 3 --json FILE

The tables of docs/results/trial_time_3d.md are drawn from its record (``trial_time_3d.json``: the "before" and
"after" runs) by :func:`draw_page` (``python -m benchmarks redraw``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import torch

from truncatedtl.engine import RunConfig, prepare, train
from truncatedtl.engine.loop import evaluate
from truncatedtl.engine.run import model_spec
from truncatedtl.tasks import build_network, get_task


def timed(call) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def phases(config: RunConfig, steps: int, memory_format: str = "contiguous") -> dict[str, float]:
    """Seconds per epoch of each phase (forward/backward: ``steps`` batches timed, scaled to the epoch), the
    model in ``memory_format`` (the one the run trained in), its optimiser that of the run's recipe."""
    prepared = prepare(config)
    loader = prepared.loader("train", config)
    batches = len(loader)
    prepare_s = timed(lambda: [prepared.dataset("train", config).image(i) for i in range(len(loader.dataset))])
    augment_s = timed(lambda: [None for _ in loader])
    torch.manual_seed(config.seed)
    model = build_network(model_spec(config, prepared.backbone, prepared.data.num_classes), prepared.backbone)
    model.train()
    if memory_format != "contiguous":  # imported here: the script also times the tree from before the choice
        from truncatedtl.engine.memory_format import torch_format

        model.to(memory_format=torch_format(memory_format, prepared.backbone.spatial_dims))
    optimizer = (torch.optim.Adam(model.parameters(), lr=1e-4) if config.recipe == "paper-2d" else
                 torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9))
    x, y = next(iter(loader))
    task = get_task(config.task)
    forward = backward = 0.0
    for step in range(steps + 1):
        start = time.perf_counter()
        loss = task.loss(model(x), y, prepared.data.kind)
        middle = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if step:  # the first step warms up
            forward += middle - start
            backward += time.perf_counter() - middle
    evaluate_s = timed(lambda: evaluate(model, prepared.loader("val", config), prepared.data.kind, task=task))
    return {"prepare": prepare_s, "augment": augment_s, "forward": forward / steps * batches,
            "backward": backward / steps * batches, "evaluate": evaluate_s, "batches": batches}


def _label(backbone: str) -> str:
    """A backbone's name in the trial table (``@3d``: a 2D network inflated to 3D)."""
    return f"{backbone} (inflated)" if backbone.endswith("@3d") else backbone


def draw_page(results: Path) -> dict[str, str]:
    """The drawn blocks of docs/results/trial_time_3d.md, from trial_time_3d.json (a record per version, "before"
    and "after" a change): each backbone's trial time in both and their ratio, then each phase's seconds per
    epoch."""
    record = json.loads((results / "trial_time_3d.json").read_text())
    (old, old_record), (new, new_record) = record.items()
    old_rows = {row["backbone"]: row for row in old_record["rows"]}
    trials = [f"| backbone | trial s, {old} | trial s, {new} | {new} / {old} |", "|---|---|---|---|"]
    for row in new_record["rows"]:
        before, after = old_rows[row["backbone"]]["trial_s"], row["trial_s"]
        trials.append(f"| {_label(row['backbone'])} | {before:.1f} | {after:.1f} | {after / before:.2f}× |")
    head = ("backbone", "version", "prepare (read + resample, once)", "augmentation + batching", "forward",
            "backward + step", f"validation ({new_record['settings']['limit']})")
    phase_lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in new_record["rows"]:
        for version, phase in ((old, old_rows[row["backbone"]]["phases_per_epoch_s"]),
                               (new, row["phases_per_epoch_s"])):
            phase_lines.append(f"| {row['backbone']} | {version} | {phase['prepare']:.2f} | **{phase['augment']:.2f}** "
                               f"| {phase['forward']:.1f} | {phase['backward']:.1f} | {phase['evaluate']:.1f} |")
    return {"trials": "\n".join(trials), "phases": "\n".join(phase_lines)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True)
    parser.add_argument("--backbones", nargs="+", default=["resnet18_3d", "efficientnet_lite0@3d"])
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--limit", type=int, default=200)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=3, help="batches timed for forward/backward")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    rows = []
    for name in args.backbones:
        config = RunConfig(data=args.data, backbone=name, strategy="ftl", image_size=args.image_size,
                           max_epochs=args.epochs, batch_size=args.batch_size, limit=args.limit, weights="none")
        start = time.perf_counter()
        run = train(config, evaluate_test=False)
        trial = time.perf_counter() - start
        layout = run.result.memory_format or {"name": "contiguous"}
        row = {"backbone": name, "trial_s": trial, "epochs": run.result.epochs,
               "epoch_s": [h["seconds"] for h in run.history], "memory_format": layout,
               "phases_per_epoch_s": phases(config, args.steps, layout["name"])}
        rows.append(row)
        print(json.dumps(row), flush=True)
    record = {"settings": vars(args) | {"json": None}, "threads": torch.get_num_threads(),
              "load_average": os.getloadavg(), "cpu": platform.processor() or platform.machine(),
              "torch": torch.__version__, "rows": rows}
    if args.json:
        args.json.write_text(json.dumps(record, indent=1) + "\n")


if __name__ == "__main__":
    main()
