#!/usr/bin/env bash
# The GPU figures and a smoke test of the GPU path, as one prepared run for a lent GPU machine (the device tool gives
# 15 minutes in all, start-up included, and 10 a command), so nothing is typed by hand there:
#
#     bash bench/gpu_check.sh "$OUT"      # OUT: where the logs and the updated docs/performance.md go
#
# It needs no install: the machine's python3 with torch, numpy, matplotlib, scikit-learn, tqdm and Pillow, and the
# repository on PYTHONPATH (kornia, for Lab runs only, is not used). Each step has its own time limit, so one that
# hangs costs its limit and not the lease; the limits add up to 555 s: give the run timeout_s 600. Afterwards copy
# $OUT/performance.md over docs/performance.md: it holds the `cuda` rows the benchmarks wrote there.
set -uo pipefail
out=${1:?usage: bash bench/gpu_check.sh OUTDIR}
mkdir -p "$out"
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1 MPLBACKEND=Agg
python=${PYTHON:-python3}
device=${DEVICE:-cuda}  # DEVICE=cpu tries the script out on a machine without a GPU

step() {  # step NAME SECONDS COMMAND...: its output into $out/NAME.log and on the screen, its status in summary.txt
    local name=$1 limit=$2; shift 2
    echo "== $name: $*"
    local start=$SECONDS
    timeout "$limit" "$@" 2>&1 | tee "$out/$name.log"
    echo "$name: exit ${PIPESTATUS[0]} after $((SECONDS - start)) s" | tee -a "$out/summary.txt"
}

step info 45 bash -c "nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv; $python -m colorlib info"
step smoke 90 bash -c "cd /tmp && $python $PWD/colorization.py --model UNet -e 1 --device $device --amp auto \
    --experiment-name gpu_smoke --overwrite && $python $PWD/colorization.py --model UNet --valid --device $device"
step time_to_quality 200 $python bench/time_to_quality.py --runs 3 --device $device
step train_speed 220 $python bench/train_speed.py --device $device
cp docs/performance.md "$out/performance.md"
cat "$out/summary.txt"
