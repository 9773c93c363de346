#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# stop-cluster.sh - stop what tests/slurm/start-cluster.sh started, and only
# that: the processes named by its pid files in /run/hq-slurm (checked by
# name). Jobs are cancelled first so that their processes end with them; a
# slurmstepd of ours that survives is killed with its children. A munged the
# start script did not start itself is left alone.
#
# Usage: tests/slurm/stop-cluster.sh [--clean]   (--clean: also job state, logs)
set -uo pipefail

STATE=/var/spool/hq-slurm
LOGS=/var/log/hq-slurm
RUN=/run/hq-slurm
clean=0
case "${1:-}" in
"") ;;
--clean) clean=1 ;;
-h | --help) sed -n '4,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
*) echo "stop-cluster: unknown argument '$1'" >&2; exit 2 ;;
esac
[ "$(id -u)" = 0 ] || { echo "stop-cluster: must run as root" >&2; exit 1; }
say() { echo "[stop-cluster] $*" >&2; }

live_pid() {
	local pid
	[ -s "$1" ] || return 1
	pid=$(tr -dc '0-9' <"$1")
	[ -n "$pid" ] && [ -r "/proc/$pid/comm" ] || return 1
	[ "$(cat "/proc/$pid/comm")" = "$2" ] || return 1
	echo "$pid"
}
# stop FILE:NAME...: SIGTERM to each live one, up to 20 s, then SIGKILL
status=0
stop() {
	local item pid pids="" left i
	for item in "$@"; do
		if pid=$(live_pid "${item%%:*}" "${item#*:}"); then
			kill -TERM "$pid" 2>/dev/null && pids="$pids $pid"
		fi
		rm -f "${item%%:*}"
	done
	[ -n "$pids" ] || return 0
	for i in $(seq 100); do
		left=""
		for pid in $pids; do [ -d "/proc/$pid" ] && left="$left $pid"; done
		[ -n "$left" ] || break
		sleep 0.2
	done
	if [ -n "$left" ]; then
		say "SIGKILL to$left"
		kill -KILL $left 2>/dev/null
		sleep 0.3
		for pid in $left; do [ -d "/proc/$pid" ] && status=1; done
	fi
	say "stopped$pids"
}

if live_pid "$RUN/slurmctld.pid" slurmctld >/dev/null; then
	jobs=$(timeout 10 squeue -h -o %A 2>/dev/null | sort -u | tr '\n' ' ')
	if [ -n "${jobs// /}" ]; then
		say "cancelling jobs $jobs"
		timeout 10 scancel $jobs 2>/dev/null
		for i in $(seq 100); do # KillWait=5
			[ -z "$(timeout 5 squeue -h -o %A 2>/dev/null)" ] && break
			sleep 0.2
		done
	fi
fi

nodes=()
for f in "$RUN"/slurmd-*.pid; do [ -e "$f" ] && nodes+=("$f:slurmd"); done
[ ${#nodes[@]} -eq 0 ] || stop "${nodes[@]}"
stop "$RUN/slurmctld.pid:slurmctld"
stop "$RUN/munged.pid:munged"

# job step daemons left behind: those writing into our log directory
children() {
	local k
	for k in $(ps -e -o pid=,ppid= | awk -v p="$1" '$2 == p { print $1 }'); do
		echo "$k"
		children "$k"
	done
}
for d in /proc/[0-9]*; do
	[ "$(cat "$d/comm" 2>/dev/null)" = slurmstepd ] || continue
	ls -l "$d/fd" 2>/dev/null | grep -qF "$LOGS/" || continue
	victims="${d#/proc/} $(children "${d#/proc/}" | tr '\n' ' ')"
	say "killing a leftover slurmstepd and its children: $victims"
	kill -KILL $victims 2>/dev/null
done

if [ $clean = 1 ]; then
	rm -rf "$STATE" "$LOGS"
	say "removed $STATE and $LOGS"
fi
rmdir "$RUN" 2>/dev/null
exit $status
