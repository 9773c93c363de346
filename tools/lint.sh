#!/bin/sh
# Layering rules of docs/ARCHITECTURE.md, checked with grep.
set -u
cd "$(dirname "$0")/.."
fail=0
bad() { echo "lint: $*"; fail=1; }

CORE="src/server/state.c src/server/state.h src/server/sched.c src/server/sched.h"
for f in $CORE; do
	grep -Eq '#include <(ev|lmdb|hwloc)\.h>|#include <openssl/|hq\.pb-c\.h' "$f" &&
		bad "$f: the core must not include libev, LMDB, hwloc, OpenSSL or protobuf headers"
	grep -Eq '\b(time|clock_gettime|gettimeofday|read|write|send|recv|open|fopen|printf|fprintf)\(' "$f" &&
		bad "$f: the core must not do I/O or read a clock"
done
for f in $(git ls-files 'src/*.c' 'src/*.h' 'tools/*.c'); do
	case "$f" in src/common/wire.c) continue ;; esac
	grep -q '#include "hq\.pb-c\.h"' "$f" && bad "$f: only src/common/wire.c may include hq.pb-c.h"
done
for f in $(git ls-files 'src/*.c' 'src/*.h' 'tools/*.c'); do
	case "$f" in src/journal/journal.c) continue ;; esac
	grep -q '#include <lmdb.h>' "$f" && bad "$f: only src/journal/journal.c may include lmdb.h"
done
for f in $(git ls-files 'src/*.c' 'src/*.h'); do
	case "$f" in src/worker/topo.c) continue ;; esac
	grep -q '#include <hwloc.h>' "$f" && bad "$f: only src/worker/topo.c may include hwloc.h"
done
grep -n '#include <assert.h>' $(git ls-files 'src/*.c' 'src/*.h') && bad "use HQ_ASSERT, not assert.h"
python3 tools/check_json_pack.py || fail=1
[ $fail = 0 ] && echo "lint: ok"
exit $fail
