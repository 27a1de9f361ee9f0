#!/usr/bin/env bash
# The built-in default job: offline ImageNet EfficientNet-Lite0, truncated at the end of stage 5 (k = 11),
# trained and evaluated on chest_xray_pneumonia; the built-in synthetic set when that data is absent.
set -euo pipefail
DATA=${TTL_DATA:-../shared/data/chest_xray_pneumonia}
if [ ! -e "$DATA" ]; then
  echo "Data $DATA not found (set TTL_DATA to an ImageFolder, .npz or .csv); running on the built-in synthetic set."
  DATA=synthetic
fi
OUT=runs/demo-$(date +%Y%m%d-%H%M%S)
ttl train --data "$DATA" --backbone efficientnet_lite0 --weights pretrained --strategy ttl --cut 11 \
  --image-size 96 --limit 600 --max-epochs 4 --out "$OUT"
