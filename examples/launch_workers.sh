#!/usr/bin/env bash
# Starts an N-worker `alexnet train --strategy multiworker` job and waits for it.
#
#   examples/launch_workers.sh -n 2 -- --data fashion_mnist --out runs/mw --epochs 15
#   examples/launch_workers.sh --hosts gpu1,gpu2,gpu3 --port 23456 -- --data /shared/imagenet \
#       --variant owt --out /shared/runs/owt --batch-size 512
#
# Worker i gets TF_CONFIG {"cluster": {"worker": [host0:port, host1:port+1, ...]},
# "task": {"type": "worker", "index": i}}; worker 0 is the chief, the only one
# that writes --out. Hosts other than localhost are reached with ssh and must
# have the same code and data paths, and --out on storage every worker can
# read (a restart resumes from the chief's checkpoint there). Each worker's
# output goes to worker-<i>.log (in --logs, default the current directory).
#
# If any worker fails, the others are stopped and the script exits with that
# worker's status; running the same command again resumes the run. TensorFlow
# handles SIGTERM itself (as a preemption notice), so workers that do not stop
# within --grace seconds are killed.
set -euo pipefail  # needs bash >= 5.1 (wait -n -p)

workers=2 hosts="" port="" logs="." grace=30
usage() { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    -n|--workers) workers="$2"; shift 2 ;;
    --hosts) hosts="$2"; shift 2 ;;
    --port) port="$2"; shift 2 ;;
    --logs) logs="$2"; shift 2 ;;
    --grace) grace="$2"; shift 2 ;;
    --) shift; break ;;
    -h|--help) usage ;;
    *) echo "launch_workers.sh: unknown option $1 (put alexnet's arguments after --)" >&2; exit 2 ;;
  esac
done
[[ $# -gt 0 ]] || usage

if [[ -n "$hosts" ]]; then
  IFS=, read -r -a host_list <<< "$hosts"
  workers=${#host_list[@]}
else
  host_list=()
  for ((i = 0; i < workers; i++)); do host_list+=(localhost); done
fi
if [[ -z "$port" ]]; then  # a free base port on this machine (and, for one host, its neighbours)
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("", 0)); print(s.getsockname()[1])')
fi

addresses=()
for ((i = 0; i < workers; i++)); do addresses+=("\"${host_list[$i]}:$((port + i))\""); done
cluster=$(IFS=,; echo "{\"worker\": [${addresses[*]}]}")
mkdir -p "$logs"

pids=()
stop_all() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  local deadline=$((SECONDS + grace))
  for pid in "${pids[@]}"; do
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
}
trap 'stop_all; exit 130' INT TERM

for ((i = 0; i < workers; i++)); do
  tf_config="{\"cluster\": $cluster, \"task\": {\"type\": \"worker\", \"index\": $i}}"
  log="$logs/worker-$i.log"
  if [[ "${host_list[$i]}" == localhost || "${host_list[$i]}" == 127.0.0.1 ]]; then
    TF_CONFIG="$tf_config" alexnet train --strategy multiworker "$@" > "$log" 2>&1 &
  else
    ssh "${host_list[$i]}" "cd $(printf %q "$PWD") && TF_CONFIG=$(printf %q "$tf_config") alexnet train \
      --strategy multiworker $(printf '%q ' "$@")" > "$log" 2>&1 &
  fi
  pids+=($!)
  echo "worker $i on ${host_list[$i]}:$((port + i)), log $log (pid $!)"
done

running=("${pids[@]}")
while ((${#running[@]} > 0)); do
  status=0
  wait -n -p done_pid "${running[@]}" || status=$?
  still=()
  for pid in "${running[@]}"; do [[ "$pid" == "$done_pid" ]] || still+=("$pid"); done
  running=("${still[@]}")
  if ((status != 0)); then
    echo "a worker (pid $done_pid) failed with status $status; stopping the others" >&2
    stop_all
    for ((i = 0; i < workers; i++)); do tail -n 3 "$logs/worker-$i.log" | sed "s/^/[worker $i] /" >&2; done
    exit "$status"
  fi
done
echo "all $workers workers finished"
