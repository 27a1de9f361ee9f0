"""Training throughput of ``ttl train``'s engine against a minimal hand-written loop, same data, same model.

Both train EfficientNet-Lite0 FTL (offline ImageNet weights, new 2-class head) with Adam at 1e-4, batch 64,
for 3 epochs, validating after each, on the same training and validation images (the product's split of the
dataset's training folder). The hand loop is what a user writes in a few lines: torchvision ``ImageFolder``
decoding every image every epoch (PIL), ``RandomResizedCrop`` + ``RandomRotation`` (the product's augmentation),
no workers, contiguous memory format, validation AUROC each epoch. The product: ``engine.train`` (data cache,
its augmentation, Lightning Fabric, the memory format chosen by measurement, plateau schedule, best
checkpoint). Both run in this one process, one after the other; throughput = training images / wall time of
the whole run (model and data set-up, training and validation).

Where the time goes, measured inside the hand loop (``data``: waiting for the next batch, i.e. decoding,
augmentation and batching; ``transfer``: the batch to the device; ``step``: forward, backward, optimiser;
``validation``) and, for the product, by its phases timed alone after its run (``benchmarks.trial_time``).

Run by hand from the repository root (``--device cuda`` on a GPU):

    python -m benchmarks.trainer_throughput --data ../shared/data/chest_xray_pneumonia --json FILE
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import torch
from torch.utils.data import DataLoader, Subset

from benchmarks.trial_time import phases
from truncatedtl.backbones import load_backbone
from truncatedtl.data import load_data
from truncatedtl.engine import RunConfig, train
from truncatedtl.spec import HeadSpec
from truncatedtl.tasks import build_network, resolve_spec
from truncatedtl.tasks.classification.metrics import scores


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def image_folder_split(root: Path, paths: list, transform) -> Subset:
    """The ``paths`` of torchvision's ImageFolder over ``root``, in its own order."""
    from torchvision.datasets import ImageFolder

    folder = ImageFolder(str(root), transform=transform)
    index = {Path(p).resolve(): i for i, (p, _) in enumerate(folder.samples)}
    return Subset(folder, [index[Path(p).resolve()] for p in paths])


def hand_loop(args: argparse.Namespace, train_paths: list, val_paths: list) -> dict:
    """The minimal loop; seconds of each phase and of the whole."""
    from torchvision import transforms as T

    start = time.perf_counter()
    backbone = load_backbone("efficientnet_lite0", args.weights)
    norm = T.Normalize(backbone.mean, backbone.std)
    train_set = image_folder_split(args.data / "train", train_paths, T.Compose([
        T.RandomResizedCrop(args.image_size, scale=(0.64, 1.0), ratio=(1.0, 1.0)), T.RandomRotation(5),
        T.ToTensor(), norm]))
    val_set = image_folder_split(args.data / "train", val_paths, T.Compose([
        T.Resize((args.image_size, args.image_size)), T.ToTensor(), norm]))
    torch.manual_seed(0)
    model = build_network(resolve_spec(backbone, "ftl", None, HeadSpec(2, args.image_size)), backbone).to(args.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True)
    val_loader = DataLoader(val_set, batch_size=args.batch_size)
    spent = dict.fromkeys(("data", "transfer", "step", "validation"), 0.0)
    for _ in range(args.epochs):
        model.train()
        mark = time.perf_counter()
        for x, y in loader:
            now = time.perf_counter()
            spent["data"] += now - mark
            x, y = x.to(args.device), y.to(args.device)
            sync(args.device)
            mark = time.perf_counter()
            spent["transfer"] += mark - now
            loss = torch.nn.functional.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            loss.item()
            now = time.perf_counter()
            spent["step"] += now - mark
            mark = now
        model.eval()
        with torch.no_grad():
            outputs = [(model(x.to(args.device)).softmax(1).cpu(), y) for x, y in val_loader]
        scores(torch.cat([o for o, _ in outputs]), torch.cat([y for _, y in outputs]), "binary")
        spent["validation"] += time.perf_counter() - mark
    total = time.perf_counter() - start
    return {"seconds": total, "phases_s": spent, "setup_s": total - sum(spent.values())}


def product(args: argparse.Namespace) -> tuple[dict, RunConfig]:
    config = RunConfig(data=str(args.data), backbone="efficientnet_lite0", strategy="ftl",
                       image_size=args.image_size, max_epochs=args.epochs, batch_size=args.batch_size, lr=1e-4,
                       limit=args.limit, weights=args.weights, device=args.device, recipe="paper-2d")
    start = time.perf_counter()
    run = train(config, evaluate_test=False)
    total = time.perf_counter() - start
    return {"seconds": total, "epoch_s": [h["seconds"] for h in run.history],
            "memory_format": run.result.memory_format}, config


def draw_page(results: Path) -> dict[str, str]:
    """The drawn blocks of docs/results/trainer_throughput.md, from trainer_throughput.json: the throughput
    table and where the time went (the product's phases per epoch times the epochs)."""
    record = json.loads((results / "trainer_throughput.json").read_text())
    hand, ours, epochs = record["hand_loop"], record["product"], record["settings"]["epochs"]
    device = record["settings"]["device"].upper()
    per_epoch = {k: v * epochs for k, v in ours["phases_per_epoch_s"].items()}
    step = per_epoch["forward"] + per_epoch["backward"]
    layout = ours["memory_format"]["name"].replace("_", "-")
    throughput = "\n".join([
        "| | wall time (s) | images / s | ratio to the hand loop |", "|---|---|---|---|",
        f"| hand loop | {hand['seconds']:.1f} | {hand['images_per_s']:.2f} | 1.00× |",
        f"| `ttl train` engine | {ours['seconds']:.1f} | {ours['images_per_s']:.2f} | **{record['ratio']:.2f}×** |"])
    spent = hand["phases_s"]
    phases = "\n".join([
        "| phase | hand loop (timed in the loop) | product (each phase timed alone after its run) |",
        "|---|---|---|",
        f"| decode + resize | inside `data`, every epoch | {ours['phases_per_epoch_s']['prepare']:.1f} (once: the "
        "first epoch fills the cache) |",
        f"| augmentation + batching | `data` {spent['data']:.1f} (decoding included) | {per_epoch['augment']:.1f} "
        f"({ours['phases_per_epoch_s']['augment']:.1f} per epoch, from the cache) |",
        f"| transfer to the device | {spent['transfer']:.1f} ({device}) | – ({device}) |",
        f"| training step (forward, backward, optimiser) | {spent['step']:.1f} "
        f"({spent['step'] / (epochs * ours['phases_per_epoch_s']['batches']):.1f} s per batch, contiguous) | "
        f"{step:.1f} (forward {per_epoch['forward']:.1f} + backward {per_epoch['backward']:.1f}; {layout}) |",
        f"| validation ({record['val_images']} images) | {spent['validation']:.1f} | {per_epoch['evaluate']:.1f} |",
        "| set-up (data listing, weights, model; product: memory-format probe, Fabric) | "
        f"{hand['setup_s']:.1f} | {ours['seconds'] - sum(ours['epoch_s']):.1f} (wall time outside the epochs) |"])
    return {"throughput": throughput, "phases": phases}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("../shared/data/chest_xray_pneumonia"))
    parser.add_argument("--image-size", type=int, default=96)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--limit", type=int, help="at most N images per split (default: all)")
    parser.add_argument("--weights", default="pretrained")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--threads", type=int, help="torch intra-op threads (default: torch's)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    data = load_data(str(args.data), seed=0, limit=args.limit)
    images = len(data.train) * args.epochs
    load = {"start": os.getloadavg()}
    ours, config = product(args)
    load["after_product"] = os.getloadavg()
    hand = hand_loop(args, list(data.train.items), list(data.val.items))
    load["after_hand_loop"] = os.getloadavg()
    ours["phases_per_epoch_s"] = phases(config, steps=3, memory_format=ours["memory_format"]["name"])
    record = {"settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items() if k != "json"},
              "train_images": len(data.train), "val_images": len(data.val), "threads": torch.get_num_threads(),
              "load_average": load, "torch": torch.__version__,
              "product": {**ours, "images_per_s": images / ours["seconds"]},
              "hand_loop": {**hand, "images_per_s": images / hand["seconds"]},
              "ratio": hand["seconds"] / ours["seconds"]}
    print(json.dumps(record, indent=1))
    if args.json:
        args.json.write_text(json.dumps(record, indent=1) + "\n")


if __name__ == "__main__":
    main()
