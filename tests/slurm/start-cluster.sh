#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# start-cluster.sh - a real Slurm cluster on this one machine, for hq's
# automatic-allocation tests: munged, slurmctld and N slurmd daemons that
# play the fake nodes n1..nN, all on 127.0.0.1, without accounting.
#
# Usage: tests/slurm/start-cluster.sh [--nodes N] [--cpus N] [--timeout S]
#
# Runs as root. Installs the Debian packages it misses (slurmctld, slurmd,
# slurm-client, munge), writes /etc/slurm/slurm.conf, starts what is not
# running yet and waits until every node is idle. Running it again is cheap;
# with another node count it restarts the cluster first. Exit 0 when ready,
# 1 with the reason and the log tails otherwise; 2 for bad arguments.
# Stop everything with tests/slurm/stop-cluster.sh.
#
# Environment: HQ_SLURM_CTLD_PORT (6817), HQ_SLURM_NODE_PORT_BASE (17000:
# node i listens on base+i), HQ_SLURM_PARTITION (debug).
set -euo pipefail

NODES=2
CPUS=$(nproc)
TIMEOUT=60
CTLD_PORT=${HQ_SLURM_CTLD_PORT:-6817}
NODE_PORT_BASE=${HQ_SLURM_NODE_PORT_BASE:-17000}
PARTITION=${HQ_SLURM_PARTITION:-debug}

usage() { sed -n '4,18p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
	case "$1" in
	--nodes) NODES=${2:?--nodes needs a value}; shift ;;
	--nodes=*) NODES=${1#*=} ;;
	--cpus) CPUS=${2:?--cpus needs a value}; shift ;;
	--cpus=*) CPUS=${1#*=} ;;
	--timeout) TIMEOUT=${2:?--timeout needs a value}; shift ;;
	--timeout=*) TIMEOUT=${1#*=} ;;
	-h | --help) usage; exit 0 ;;
	*) echo "start-cluster: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
	esac
	shift
done
for v in "$NODES" "$CPUS" "$TIMEOUT"; do
	case "$v" in '' | *[!0-9]* | 0) echo "start-cluster: '$v' is not a positive integer" >&2; exit 2 ;; esac
done

HERE=$(cd "$(dirname "$0")" && pwd)
STATE=/var/spool/hq-slurm
LOGS=/var/log/hq-slurm
RUN=/run/hq-slurm
CONF=/etc/slurm/slurm.conf
MARK="# written by hq tests/slurm/start-cluster.sh"

say() { echo "[start-cluster] $*" >&2; }
fail() {
	local f
	say "ERROR: $*"
	for f in "$LOGS"/*.log; do
		[ -s "$f" ] || continue
		echo "---- $f (last lines)" >&2
		tail -n 12 "$f" >&2
	done
	exit 1
}
[ "$(id -u)" = 0 ] || fail "must run as root"

# live_pid FILE NAME: the pid in FILE if that process is alive and named NAME
live_pid() {
	local pid
	[ -s "$1" ] || return 1
	pid=$(tr -dc '0-9' <"$1")
	[ -n "$pid" ] && [ -r "/proc/$pid/comm" ] || return 1
	[ "$(cat "/proc/$pid/comm")" = "$2" ] || return 1
	echo "$pid"
}
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# poll DESC CMD...: run CMD every 0.2 s until it succeeds, at most TIMEOUT s
poll() {
	local what=$1 end=$((SECONDS + TIMEOUT))
	shift
	until "$@" >/dev/null 2>&1; do
		[ $SECONDS -lt $end ] || fail "no $what after ${TIMEOUT}s"
		sleep 0.2
	done
}

# ---- 1. packages -----------------------------------------------------------
missing=()
[ -x /usr/sbin/slurmctld ] || missing+=(slurmctld)
[ -x /usr/sbin/slurmd ] || missing+=(slurmd)
[ -x /usr/bin/sbatch ] || missing+=(slurm-client)
[ -x /usr/sbin/munged ] || missing+=(munge)
if [ ${#missing[@]} -gt 0 ]; then
	say "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	# The packages must not start their daemons through init scripts: a
	# policy that denies it, only for this install and only if none exists.
	policy=0
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		policy=1
	fi
	ok=0
	for try in 1 2 3 4; do
		if apt-get -q -o DPkg::Lock::Timeout=300 update >/tmp/hq-slurm-apt.log 2>&1 &&
			apt-get install -y -q --no-install-recommends \
				-o DPkg::Lock::Timeout=300 "${missing[@]}" >>/tmp/hq-slurm-apt.log 2>&1; then
			ok=1
			break
		fi
		say "apt-get failed (try $try), retrying in 5 s"
		sleep 5
	done
	[ $policy = 0 ] || rm -f /usr/sbin/policy-rc.d
	[ $ok = 1 ] || { tail -n 20 /tmp/hq-slurm-apt.log >&2; fail "cannot install ${missing[*]}"; }
fi

# ---- 2. configuration -------------------------------------------------------
HOST=$(hostname -s)
MEM=$(awk -v n="$NODES" '/^MemTotal:/ { printf "%d", $2 / 1024 / 2 / n }' /proc/meminfo)
comm="# the host name does not resolve to 127.x: daemons listen on 0.0.0.0"
case "$(getent hosts "$HOST" | awk '{ print $1; exit }')" in
127.*) comm="CommunicationParameters=NoInAddrAny" ;;
esac
new_conf="$MARK
ClusterName=hqtest
SlurmctldHost=$HOST(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
$comm
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/d/%n
SlurmctldPidFile=$RUN/slurmctld.pid
SlurmdPidFile=$RUN/slurmd-%n.pid
SlurmctldLogFile=$LOGS/slurmctld.log
SlurmdLogFile=$LOGS/slurmd-%n.log
SlurmdParameters=config_overrides
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
MailProg=/bin/true
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MinJobAge=3600
KillWait=5
InactiveLimit=0
SlurmctldTimeout=30
SlurmdTimeout=60
NodeName=n[1-$NODES] NodeHostname=$HOST NodeAddr=127.0.0.1 Port=[$((NODE_PORT_BASE + 1))-$((NODE_PORT_BASE + NODES))] CPUs=$CPUS RealMemory=$MEM State=UNKNOWN
PartitionName=$PARTITION Nodes=ALL Default=YES MaxTime=INFINITE State=UP"

mkdir -p "$LOGS" "$RUN" "$STATE/ctld" /etc/slurm
fresh=0
if [ ! -f "$CONF" ] || [ "$(cat "$CONF")" != "$new_conf" ]; then
	if ls "$RUN"/*.pid >/dev/null 2>&1; then
		say "configuration changed: restarting the cluster"
		"$HERE/stop-cluster.sh" || fail "stop-cluster.sh failed"
		mkdir -p "$RUN"
	fi
	if [ -f "$CONF" ] && ! grep -qF "$MARK" "$CONF"; then
		cp -p "$CONF" "$CONF.orig.$(date +%s)"
		say "saved the previous $CONF"
	fi
	printf '%s\n' "$new_conf" >"$CONF.tmp"
	chmod 644 "$CONF.tmp"
	mv "$CONF.tmp" "$CONF"
	fresh=1
fi
for i in $(seq 1 "$NODES"); do mkdir -p "$STATE/d/n$i"; done

# ---- 3. munge ------------------------------------------------------------------
if ! munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; then
	if [ ! -s /etc/munge/munge.key ]; then
		mkdir -p /etc/munge
		dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
	fi
	mkdir -p /run/munge /var/log/munge /var/lib/munge
	chown munge:munge /etc/munge/munge.key /run/munge /var/log/munge /var/lib/munge
	chmod 400 /etc/munge/munge.key
	runuser -u munge -- /usr/sbin/munged --force || fail "munged does not start"
	poll "munge credentials" bash -c 'munge -n </dev/null | unmunge'
	cp /run/munge/munged.pid "$RUN/munged.pid"
fi

# ---- 4. slurmctld, slurmd -----------------------------------------------------
started=""
if ! live_pid "$RUN/slurmctld.pid" slurmctld >/dev/null; then
	port_busy "$CTLD_PORT" && fail "port $CTLD_PORT is taken by another program (HQ_SLURM_CTLD_PORT)"
	args=(-i)
	[ $fresh = 0 ] || args+=(-c) # other nodes: do not recover old state
	(cd "$LOGS" && /usr/sbin/slurmctld "${args[@]}") || fail "slurmctld does not start"
	poll "answer from slurmctld" bash -c 'scontrol ping | grep -q "is UP"'
	started="$started slurmctld"
fi
for i in $(seq 1 "$NODES"); do
	if ! live_pid "$RUN/slurmd-n$i.pid" slurmd >/dev/null; then
		port_busy $((NODE_PORT_BASE + i)) && fail "port $((NODE_PORT_BASE + i)) is taken by another program"
		(cd "$LOGS" && /usr/sbin/slurmd -N "n$i") || fail "slurmd n$i does not start"
		poll "pid file of slurmd n$i" live_pid "$RUN/slurmd-n$i.pid" slurmd
		started="$started n$i"
	fi
done

# ---- 5. ready? ----------------------------------------------------------------
nodes_idle() {
	local out
	out=$(sinfo -h -N -p "$PARTITION" -o '%N %t') || return 1
	[ "$(echo "$out" | awk 'NF' | sort -u | wc -l)" -eq "$NODES" ] || return 1
	[ -z "$(echo "$out" | awk '$2 !~ /^(idle|mix|alloc|comp)$/')" ]
}
end=$((SECONDS + TIMEOUT))
resumed=0
until nodes_idle; do
	if [ $resumed = 0 ] && [ $SECONDS -ge $((end - TIMEOUT + 10)) ]; then
		# drained or down from an earlier run: back to service, once
		scontrol update NodeName="n[1-$NODES]" State=RESUME >/dev/null 2>&1 || true
		resumed=1
	fi
	[ $SECONDS -lt $end ] || { sinfo -N -l >&2 || true; fail "nodes not idle after ${TIMEOUT}s"; }
	sleep 0.2
done
say "ready:${started:- (already running)}; $(sinfo -h -o '%P %D %t %N' | tr '\n' ' ')"
