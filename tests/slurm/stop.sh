#!/usr/bin/env bash
# Stops the test cluster that tests/slurm/start.sh started: slurmd, slurmctld, and munged if
# start.sh started it. Only the processes named in its pid files are signalled.
set -euo pipefail

DIR="${WILDDEBLUR_SLURM_DIR:-/tmp/wilddeblur-slurm}"

stop() {  # pidfile
  [ -s "$1" ] || return 0
  local pid; pid="$(cat "$1")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$1"
}

stop "$DIR/run/slurmd.pid"
stop "$DIR/run/slurmctld.pid"
stop "$DIR/run/munged.pid"
