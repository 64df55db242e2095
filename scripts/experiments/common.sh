# Shared by the experiment scripts (sourced, not run): run one setting or all, then summarize.
# A setting is "name|script flags..."; SLURM_ARRAY_TASK_ID (0-based) picks one, else all run in turn.
# Each run's metrics.jsonl and command go to docs/experiments/<experiment>/<name>.{jsonl,cmd}, then
# summarize.py rewrites docs/experiments/<experiment>.md and .png from whatever runs are there, led by the rows
# named in the array rows_first (runs made elsewhere, copied there by the calling script).

run_experiment() {  # experiment, settings...
  local experiment=$1; shift
  local settings=("$@") out="docs/experiments/$experiment"
  local chosen=("${settings[@]}")
  if [ -n "${SLURM_ARRAY_TASK_ID:-}" ]; then
    if [ "$SLURM_ARRAY_TASK_ID" -ge "${#settings[@]}" ]; then
      echo "SLURM_ARRAY_TASK_ID=$SLURM_ARRAY_TASK_ID: only ${#settings[@]} settings (0-$((${#settings[@]} - 1)))" >&2
      exit 2
    fi
    chosen=("${settings[$SLURM_ARRAY_TASK_ID]}")
  fi
  mkdir -p "$out"
  local setting name command
  for setting in "${chosen[@]}"; do
    name=${setting%%|*}
    command="python ${setting#*|} --experiment-name exp_${experiment}_$name --overwrite"
    echo "$name: $command"
    $command
    cp "outputs/exp_${experiment}_$name/metrics.jsonl" "$out/$name.jsonl"
    echo "$command" > "$out/$name.cmd"
  done
  python scripts/experiments/summarize.py "$experiment" ${rows_first[@]+"${rows_first[@]}"} "${settings[@]%%|*}"
}
