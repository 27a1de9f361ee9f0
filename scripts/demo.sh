#!/usr/bin/env bash
# The built-in default job: where to cut the offline ImageNet EfficientNet-Lite0 for chest_xray_pneumonia.
# Two-stage search of the truncation point (block boundaries, then their neighbours), FTL alongside, the
# report at the end. Sized for a CPU (64 px, 300 images per split, 3 epochs, one repeat, two worker
# processes): about a dozen short trainings, within 15 minutes. Without the data, the built-in synthetic set.
set -euo pipefail
DATA=${TTL_DATA:-../shared/data/chest_xray_pneumonia}
if [ ! -e "$DATA" ]; then
  echo "Data $DATA not found (set TTL_DATA to an ImageFolder, .npz or .csv); running on the built-in synthetic set."
  DATA=synthetic
fi
OUT=runs/demo-$(date +%Y%m%d-%H%M%S)
ttl search --data "$DATA" --backbone efficientnet_lite0 --weights pretrained --method two-stage --radius 2 \
  --image-size 64 --limit 300 --max-epochs 3 --lr 1e-3 --batch-size 32 --repeats 1 --device cpu --workers 2 \
  --out "$OUT"
echo "report, trials and auprc_by_cut.png in $OUT"
