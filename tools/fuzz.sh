#!/bin/sh
# SPDX-License-Identifier: MIT
# libFuzzer targets (tests/fuzz/fuzz_*.c) with ASan + UBSan, built with clang
# against the project's sources compiled into a separate build dir.
#
#   tools/fuzz.sh build TARGET.c...        build only
#   tools/fuzz.sh run [-r RUNS] TARGET.c... build, then RUNS executions each
#                                          (default $FUZZ_RUNS or 1,000,000),
#                                          growing build-fuzz/corpus/<target>
#   tools/fuzz.sh quick TARGET.c...        build, then a short deterministic
#                                          run of each (make test)
#   tools/fuzz.sh gen                      write the seed corpora generated
#                                          from real messages (tests/fuzz/gen)
#
# Seeds come from tests/fuzz/corpus/<target>/ (read only). A crash leaves
# its input in build-fuzz/artifacts/ and makes the script fail; add it to
# the seed corpus as a regression input once fixed.
set -eu
cd "$(dirname "$0")/.."

FB=${FUZZ_BUILD:-build-fuzz}
CLANG=${FUZZ_CC:-clang}
JOBS=${FUZZ_JOBS:-2}
SAN="-fsanitize=address,undefined -fno-sanitize-recover=all"
PKGS="lmdb hwloc libprotobuf-c openssl jansson"

die() { echo "fuzz.sh: $*" >&2; exit 1; }

command -v "$CLANG" >/dev/null 2>&1 ||
	die "$CLANG not found (Debian: apt-get install clang libclang-rt-14-dev)"

build_lib() {
	# The Makefile compiles the library; instrumented for coverage only
	# (fuzzer-no-link), so libFuzzer's main comes from the target link.
	${MAKE:-make} -s -j"$JOBS" --no-print-directory BUILD="$FB" CC="$CLANG" \
	    CFLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link $SAN" \
	    "$FB/libhq.a" >/dev/null
}

# build_one SRC MAIN_FLAGS OUT
build_one() {
	src=$1 flags=$2 out=$3
	mkdir -p "$(dirname "$out")"
	if [ ! -e "$out" ] || [ "$src" -nt "$out" ] ||
	    [ "$FB/libhq.a" -nt "$out" ] || [ tests/fuzz/fuzz.h -nt "$out" ]; then
		echo "  FUZZ-CC $src"
		# shellcheck disable=SC2086
		$CLANG -std=c11 -D_GNU_SOURCE -O1 -g -fno-omit-frame-pointer -Wall -Wextra \
		    $flags $SAN -Isrc -Itests/fuzz -I"$FB/gen" \
		    $(pkg-config --cflags $PKGS) -o "$out" "$src" \
		    "$FB/libhq.a" $(pkg-config --libs $PKGS) -lev -lpthread -lm
	fi
}

build_targets() {
	build_lib
	for src in "$@"; do
		build_one "$src" "-fsanitize=fuzzer" \
		    "$FB/bin/$(basename "$src" .c)"
	done
}

# run_one SRC RUNS WORKDIR EXTRA...
run_one() {
	src=$1 runs=$2 work=$3
	shift 3
	name=$(basename "$src" .c)
	short=${name#fuzz_}
	seeds=tests/fuzz/corpus/$short
	mkdir -p "$work/$short" "$FB/artifacts" "$seeds"
	start=$(date +%s)
	log="$FB/logs/$name.log"
	mkdir -p "$FB/logs"
	if ! "$FB/bin/$name" -runs="$runs" -max_len=4096 -timeout=30 \
	    -rss_limit_mb=4096 -malloc_limit_mb=4096 -print_final_stats=1 \
	    -artifact_prefix="$FB/artifacts/$name-" "$@" \
	    "$work/$short" "$seeds" >"$log" 2>&1; then
		echo "FAIL  $name (log: $log)"
		tail -n 40 "$log"
		return 1
	fi
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
	printf 'PASS  %-16s %9s execs  %4ss  %s\n' "$name" "${execs:-?}" \
	    "$(($(date +%s) - start))" "$cov"
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
build)
	build_targets "$@"
	;;
run | quick)
	runs=${FUZZ_RUNS:-1000000}
	if [ "${1:-}" = "-r" ]; then
		runs=$2
		shift 2
	fi
	[ $# -gt 0 ] || die "no targets"
	build_targets "$@"
	fail=0
	if [ "$cmd" = quick ]; then
		# Short and reproducible: fixed seed, a fresh work corpus.
		work=$(mktemp -d)
		for src in "$@"; do
			run_one "$src" "${FUZZ_QUICK_RUNS:-20000}" "$work" \
			    -max_total_time="${FUZZ_QUICK_SECONDS:-5}" \
			    -seed=1 || fail=1
		done
		rm -rf "$work"
	else
		# Longer runs, $JOBS targets at a time.
		pids=""
		for src in "$@"; do
			run_one "$src" "$runs" "$FB/corpus" &
			pids="$pids $!"
			set -- $pids
			if [ $# -ge "$JOBS" ]; then
				wait "$1" || fail=1
				shift
				pids="$*"
			fi
		done
		for p in $pids; do wait "$p" || fail=1; done
	fi
	exit $fail
	;;
gen)
	build_lib
	build_one tests/fuzz/gen/gen_corpus.c "" "$FB/bin/gen_corpus"
	"$FB/bin/gen_corpus" tests/fuzz/corpus
	;;
*)
	die "usage: fuzz.sh build|run [-r RUNS]|quick TARGET.c... | gen"
	;;
esac
