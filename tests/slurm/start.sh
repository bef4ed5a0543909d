#!/usr/bin/env bash
# A real single-node Slurm on this machine, for tests/test_slurm.py (and for trying the
# profile by hand). Needs root and Debian's packages:
#   apt-get install -y slurmctld slurmd slurm-client munge
# Run it as root, or through sudo (tests/test_slurm.py uses `sudo -n` for other users).
# Writes /etc/slurm/slurm.conf (Slurm's default place: inside a job, the executor plugin drops
# SLURM_* variables, SLURM_CONF included, so srun must find the file there), starts munged,
# slurmctld and slurmd (no systemd needed; state, logs and pid files in
# $WILDDEBLUR_SLURM_DIR, default /tmp/wilddeblur-slurm) and waits until the node is idle.
# Idempotent: a cluster that already answers is reused; a slurm.conf this script did not
# write is never overwritten.
# Stop it with: tests/slurm/stop.sh   (stops only what this script started)
# The last line printed is "started" or "reused".
set -euo pipefail

DIR="${WILDDEBLUR_SLURM_DIR:-/tmp/wilddeblur-slurm}"
CONF=/etc/slurm/slurm.conf
MARK="# Written by tests/slurm/start.sh"
unset SLURM_CONF

die() { echo "tests/slurm/start.sh: $*" >&2; exit 1; }

for exe in munged slurmctld slurmd sinfo sbatch squeue; do
  command -v "$exe" >/dev/null || [ -x "/usr/sbin/$exe" ] \
    || die "$exe not found (apt-get install -y slurmctld slurmd slurm-client munge)"
done
PATH="$PATH:/usr/sbin"
[ "$(id -u)" = 0 ] || die "must run as root (slurmd starts jobs as their users): sudo bash $0"

node_state() { timeout "${1:-10}" sinfo -h -N -o %T 2>/dev/null | head -1; }
wait_idle() {
  local state=""
  for _ in $(seq 1 120); do
    state="$(node_state || true)"
    case "$state" in
      idle|mixed|allocated) return 0 ;;
    esac
    sleep 0.5
  done
  echo "node state: '${state:-no answer}'" >&2
  for log in slurmctld slurmd; do
    echo "--- $DIR/log/$log.log (tail)" >&2
    tail -n 20 "$DIR/log/$log.log" >&2 || true
  done
  die "the node did not become idle within 60 s"
}
alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# Reuse a cluster that already answers (started earlier by this script, or by the system).
if [ -f "$CONF" ] && [ -n "$(node_state 3 || true)" ]; then
  wait_idle
  echo reused
  exit 0
fi
if [ -f "$CONF" ] && ! grep -qxF "$MARK: a one-node test cluster on 127.0.0.1." "$CONF"; then
  die "$CONF exists and was not written by this script; not overwriting it"
fi

mkdir -p "$DIR"/{run,log,spool/ctld,spool/d}

# munge: Slurm's authentication. Debian's package made the key; its service script does not
# start anything without systemd, so start munged as the munge user.
if ! (munge -n | unmunge) >/dev/null 2>&1; then
  install -d -o munge -g munge -m 0755 /run/munge
  [ -s /etc/munge/munge.key ] || die "/etc/munge/munge.key is missing (reinstall munge)"
  runuser -u munge -- /usr/sbin/munged
  for _ in $(seq 1 50); do (munge -n | unmunge) >/dev/null 2>&1 && break; sleep 0.1; done
  (munge -n | unmunge) >/dev/null 2>&1 || die "munged did not start (/var/log/munge/munged.log)"
  cp /run/munge/munged.pid "$DIR/run/munged.pid"   # ours: stop.sh stops it too
fi

# The node claims twice this machine's cores (SlurmdParameters=config_overrides lets slurmd
# accept that): the test's jobs are short and spend most of their time starting Snakemake
# and waiting for the plugin's status checks, so running more of them at once shortens the
# test; two-thread jobs (downsample, training) no longer queue behind each other.
# WILDDEBLUR_SLURM_CPUS sets the count.
cpus="${WILDDEBLUR_SLURM_CPUS:-$(( $(nproc) * 2 ))}"
avail_mb="$(awk '/^MemAvailable:/ {print int($2 / 1024)}' /proc/meminfo)"
mem_mb=$(( avail_mb * 8 / 10 ))   # below free memory, or slurmd drains the node
[ "$mem_mb" -ge 1024 ] || die "only ${avail_mb} MB of memory available"

# Without accounting (no slurmdbd) sacct does not work: Snakemake's profile must use
# slurm-status-command: squeue, and squeue needs MinJobAge >= 3 x the plugin's
# init-seconds-before-status-checks (else the plugin falls back to sacct and waits forever).
# MinJobAge also keeps finished jobs visible to tests/test_slurm.py's `scontrol show job` after
# the whole run, whose guard is 900 s: an hour, so that no load makes them vanish first.
mkdir -p "$(dirname "$CONF")"
cat > "$CONF" <<EOF
$MARK: a one-node test cluster on 127.0.0.1.
ClusterName=wilddeblur-test
SlurmctldHost=localhost
SlurmUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1024
MinJobAge=3600
ReturnToService=2
SlurmdParameters=config_overrides
MailProg=/bin/true
SlurmctldPidFile=$DIR/run/slurmctld.pid
SlurmdPidFile=$DIR/run/slurmd.pid
StateSaveLocation=$DIR/spool/ctld
SlurmdSpoolDir=$DIR/spool/d
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF

# Stale daemons of an earlier run of this script (e.g. one of the two died): stop them.
for d in slurmd slurmctld; do
  if alive "$DIR/run/$d.pid"; then kill "$(cat "$DIR/run/$d.pid")" || true; sleep 1; fi
done

slurmctld -c -i -f "$CONF"   # -c: fresh state (no jobs or node states from a past run)
slurmd -N localhost -f "$CONF"
wait_idle
echo started
