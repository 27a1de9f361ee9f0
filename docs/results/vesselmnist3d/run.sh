#!/usr/bin/env bash
# Redraws the trials behind ../vesselmnist3d.md: TTL at each block boundary and FTL, 3 seeds, on VesselMNIST3D.
# Usage (project root): OMP_NUM_THREADS=1 bash docs/results/vesselmnist3d/run.sh SOURCE
#   SOURCE = resnet18_3d (random init) | lite0 (efficientnet_lite0 --inflate, ImageNet) | ct (ct_resnet152_3d)
set -eu
DATA=${DATA:-../shared/data/vesselmnist3d/vesselmnist3d.npz}
OUT=docs/results/vesselmnist3d/trials; RUNS=${RUNS:-/tmp/vessel3d-runs}
COMMON="--data $DATA --image-size 28 --max-epochs 4 --batch-size 32 --lr 1e-4"
case $1 in
  resnet18_3d) B="--backbone resnet18_3d --weights none"; CUTS="2 4 6";;
  lite0) B="--backbone efficientnet_lite0 --inflate --weights pretrained"; CUTS="1 3 5 8 11 15";;
  ct) B="--backbone ct_resnet152_3d --weights pretrained"; CUTS="3 11";;
esac
mkdir -p "$OUT" "$RUNS"
for seed in 0 1 2; do
  for s in $CUTS ftl; do
    name=$1-$([ "$s" = ftl ] && echo ftl || echo ttl$s)-seed$seed
    [ -f "$OUT/$name.json" ] && continue
    if [ "$s" = ftl ]; then st="--strategy ftl"; else st="--strategy ttl --cut $s"; fi
    rm -rf "$RUNS/$name"
    ttl train $COMMON $B $st --seed $seed --out "$RUNS/$name" > "$RUNS/$name.log" 2>&1
    cp "$RUNS/$name/result.json" "$OUT/$name.json"
  done
done
