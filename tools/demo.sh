#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# hq in one minute: a server with a journal, one worker, a 1,000-task array.
#
#   tools/demo.sh build/hq          (or: make demo)
#
# Everything happens in a temporary directory, which is removed at the end
# (set HQ_DEMO_KEEP=1 to keep it). Every process the demo starts is stopped
# before it exits; if one had to be killed, the demo fails.
set -euo pipefail

if [ $# -ne 1 ] || [ ! -x "$1" ]; then
	echo "usage: $0 <path to the hq binary>" >&2
	exit 2
fi
HQ=$(realpath "$1")

DEMO=$(mktemp -d "${TMPDIR:-/tmp}/hq-demo.XXXXXX")
export HQ_SERVER_DIR="$DEMO/server"
unset HQ_OUTPUT_MODE
mkdir -p "$DEMO/work"
server_pid=
worker_pid=

if [ -t 1 ]; then
	bold=$'\033[1m' green=$'\033[32m' red=$'\033[31m' plain=$'\033[0m'
else
	bold='' green='' red='' plain=''
fi
step() { printf '\n%s==> %s%s\n' "$bold" "$*" "$plain"; }
# Show a command the way one would type it ("hq" for the binary), run it.
run() {
	local a line=
	for a in "$@"; do
		[ "$a" = "$HQ" ] && a=hq
		if [[ ! $a =~ ^[][A-Za-z0-9_./:,=%{}@+-]+$ ]]; then
			a="'${a//\'/\'\\\'\'}'"
		fi
		line+=" $a"
	done
	printf '%s$%s%s\n' "$bold" "$line" "$plain"
	"$@"
}

# Processes of this demo still alive: the server, the worker, and any task
# (tasks run with their cwd inside the demo directory).
leftovers() {
	local p
	for p in $server_pid $worker_pid; do
		[ -d "/proc/$p" ] && echo "$p"
	done
	for p in /proc/[0-9]*; do
		case "$(readlink "$p/cwd" 2>/dev/null)" in
		"$DEMO"/*) echo "${p#/proc/}" ;;
		esac
	done | sort -un
}

# Reap a background child if it has exited (no zombie counts as alive).
reap() {
	local p
	for p in $server_pid $worker_pid; do
		if [ -d "/proc/$p" ] && [ "$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)" = Z ]; then
			wait "$p" 2>/dev/null || true
		fi
	done
}

cleanup() {
	local rc=$? left p
	trap - EXIT INT TERM HUP
	trap '' PIPE # our output may be gone (demo.sh | head): clean up anyway
	set +e
	cd / # from here on, a process whose cwd is in $DEMO is a task
	# On an early failure, still try the clean way out first.
	if [ $rc -ne 0 ] && [ -n "$server_pid" ] && [ -d "/proc/$server_pid" ]; then
		"$HQ" server stop >/dev/null 2>&1 || true
		wait_exit "$server_pid" 10 || true
		[ -z "$worker_pid" ] || wait_exit "$worker_pid" 10 || true
	fi
	reap
	left=$(leftovers)
	if [ -n "$left" ]; then
		echo "${red}Processes left behind, killing them: ${left//$'\n'/ }${plain}" >&2
		for p in $left; do kill -9 "$p" 2>/dev/null || true; done
		for p in $server_pid $worker_pid; do wait "$p" 2>/dev/null || true; done
		rc=1
	fi
	if [ $rc -ne 0 ]; then
		for f in server.log worker.log; do
			if [ -s "$DEMO/$f" ]; then
				echo "---- last lines of $f ----" >&2
				tail -n 20 "$DEMO/$f" >&2
			fi
		done
	fi
	if [ "${HQ_DEMO_KEEP:-0}" = 1 ]; then
		echo "The demo directory is kept: $DEMO"
	else
		rm -rf "$DEMO"
	fi
	if [ $rc -eq 0 ]; then
		echo "${green}Demo finished: everything stopped, nothing left running.${plain}"
	else
		echo "${red}Demo failed (exit code $rc).${plain}" >&2
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
trap 'exit 141' PIPE

# Wait (at most $2 seconds) until process $1 has exited.
wait_exit() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		reap
		[ -d "/proc/$1" ] || return 0
		sleep 0.1
	done
	return 1
}

cd "$DEMO/work"
echo "${bold}hq demo${plain}: $("$HQ" --version)"
echo "hq below is $HQ; the demo works in $DEMO"

step "Start a server; its state goes to the journal $DEMO/hq.journal"
"$HQ" server start --journal "$DEMO/hq.journal" >"$DEMO/server.log" 2>&1 &
server_pid=$!
run "$HQ" server wait --timeout 30s
run "$HQ" server info

step "Start a worker (it detects this machine's CPUs) and wait for it"
"$HQ" worker start >"$DEMO/worker.log" 2>&1 &
worker_pid=$!
run "$HQ" worker wait 1
run "$HQ" worker list

step "Submit an array of 1,000 tasks and watch them run"
# Each task prints a line; the worker gives it HQ_TASK_ID and HQ_CPUS.
# (hq warns that 1,000 tasks make 1,000 output files: in real use, --stream
# collects them into a few files.)
# shellcheck disable=SC2016 # the task's shell expands these
run "$HQ" submit --array 1-1000 --stderr none --progress -- \
	bash -c 'echo "Task $HQ_TASK_ID ran on CPU $HQ_CPUS"; sleep 0.01'

step "Summary"
run "$HQ" job list --all
finished=$("$HQ" --output-mode json job list --all |
	grep -o '"finished": [0-9]*' | grep -o '[0-9]*$')
echo "Finished tasks: $finished of 1000; output files: $(find job-1 -type f | wc -l)"
run "$HQ" job cat 1 stdout --tasks 1-3,998-1000
run cat job-1/17.stdout
if [ "$finished" != 1000 ]; then
	echo "${red}expected 1000 finished tasks${plain}" >&2
	exit 1
fi

step "Stop everything: the worker exits when the server goes"
run "$HQ" server stop
wait_exit "$server_pid" 30 || { echo "the server did not exit" >&2; exit 1; }
wait_exit "$worker_pid" 30 || { echo "the worker did not exit" >&2; exit 1; }
wait "$server_pid" || { echo "the server exited with an error" >&2; exit 1; }
wait "$worker_pid" || { echo "the worker exited with an error" >&2; exit 1; }
if [ -e "$HQ_SERVER_DIR/hq-current" ]; then
	echo "hq-current is still there after a clean stop" >&2
	exit 1
fi
echo "Server and worker stopped. The journal keeps every job:" \
	"\`hq server start --journal $DEMO/hq.journal\` would bring them back."
