#!/usr/bin/env bash
# Redraws the trials behind ../vesselmnist3d.md: TTL at each block boundary and FTL, 3 seeds, on VesselMNIST3D.
# Usage (project root): OMP_NUM_THREADS=1 bash docs/results/vesselmnist3d/run.sh SOURCE
#   SOURCE = resnet18_3d (random init) | lite0 (efficientnet_lite0 --inflate, ImageNet) | ct (ct_resnet152_3d, CT)
#          | ct-last (ct_resnet152_3d TTL at its last cut 50, seed 0: the FTL model, a check)
#          | ct-ftl-cost (one FTL epoch of ct_resnet152_3d on 64 training volumes, seed 0: its cost on this CPU)
# Small CPU settings (2 shared cores): 32³ input (28³ resampled; the full networks' stride is 32), at most
# 200 volumes per split (stratified), 3 epochs, paper-3d recipe (SGD momentum 0.9, cosine, LR 0.01; 0.001 for
# pretrained weights), best epoch by validation AUROC.
set -eu
DATA=${DATA:-../shared/data/vesselmnist3d/vesselmnist3d.npz}
OUT=docs/results/vesselmnist3d/trials; RUNS=${RUNS:-runs/vessel3d}
COMMON="--data $DATA --recipe paper-3d --image-size 32 --limit 200 --max-epochs 3 --batch-size 32"
SEEDS="0 1 2"
case $1 in
  resnet18_3d) B="--backbone resnet18_3d --weights none"; CUTS="2 4 6 ftl";;
  lite0) B="--backbone efficientnet_lite0 --inflate --weights pretrained"; CUTS="1 3 5 8 11 15 16 ftl";;
  # ct_resnet152_3d has no neck, so TTL at its last cut (50) is the full network, the same model as FTL:
  # trained once (seed 0, ct-ttl50) to check that, FTL at every seed.
  ct) B="--backbone ct_resnet152_3d --weights pretrained"; CUTS="3 11 47 ftl";;
  ct-last) B="--backbone ct_resnet152_3d --weights pretrained"; CUTS="50"; SEEDS=0;;
  ct-ftl-cost) B="--backbone ct_resnet152_3d --weights pretrained"; CUTS="ftl"; SEEDS=0
    COMMON="${COMMON/--max-epochs 3/--max-epochs 1}"; COMMON="${COMMON/--limit 200/--limit 64}";;
  *) echo "unknown source $1" >&2; exit 2;;
esac
mkdir -p "$OUT" "$RUNS"
for seed in $SEEDS; do
  for s in $CUTS; do
    name=$1-$([ "$s" = ftl ] && echo ftl || echo ttl$s)-seed$seed
    [ -f "$OUT/$name.json" ] && continue
    if [ "$s" = ftl ]; then st="--strategy ftl"; else st="--strategy ttl --cut $s"; fi
    rm -rf "${RUNS:?}/$name"
    ( time ttl train $COMMON $B $st --seed "$seed" --out "$RUNS/$name" ) > "$RUNS/$name.log" 2>&1
    cp "$RUNS/$name/result.json" "$OUT/$name.json"
    # CPU seconds of the trial (user + sys, from bash's time) beside its wall seconds, for the cost statements
    grep -E '^(real|user|sys)' "$RUNS/$name.log" | tr '\n' ' ' > "$OUT/$name.time"
  done
done
