/* SPDX-License-Identifier: MIT */
/*
 * Journal cost for `make bench`: copy the records of a real journal (written
 * by a benchmark run of the server) into a new journal through the journal
 * API, committing every K records with a synced commit, and print the wall
 * time, the sizes and the number of task transitions as JSON.
 *
 *   journal SRC DST [--group K] [--max M]
 *
 * K = 0 (the default) uses the source's own grouping: records / commits,
 * rounded, so the copy makes as many synced transactions per record as the
 * live server did. M caps the records copied (0: all). DST must not exist.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common/event.h"
#include "common/util.h"
#include "common/wire.h"
#include "journal/journal.h"

struct jbench_rec {
	uint8_t *data;
	size_t len;
};

struct jbench {
	struct jbench_rec *recs;
	size_t n, cap, max;
	uint64_t bytes;
	uint64_t transitions; /* task transitions; 1 per other event */
	uint64_t undecodable;
};

static uint64_t
jbench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* One record of the source: keep a copy and count what it carries. */
static int
jbench_collect_cb(HQ_UNUSED uint64_t seq, const void *rec, size_t len,
    void *arg)
{
	struct jbench *b = arg;
	struct hq_event ev;
	struct jbench_rec r;

	if (b->max != 0 && b->n >= b->max)
		return 1;
	memset(&ev, 0, sizeof ev);
	if (hq_wire_decode_event(rec, len, &ev, NULL) != 0)
		b->undecodable++;
	else {
		b->transitions += ev.kind == HQ_EV_TASK_RUN ? ev.u.run.n : 1;
		hq_event_fini(&ev);
	}
	r.data = hq_xmemdup(rec, len);
	r.len = len;
	HQ_VEC_PUSH(b->recs, b->n, b->cap, r);
	b->bytes += len;
	return 0;
}

static int
jbench_parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0')
		return HQ_EINVAL;
	*out = v;
	return 0;
}

int
main(int argc, char **argv)
{
	struct hq_journal_opts ro = { .readonly = true };
	struct hq_journal *src = NULL, *dst = NULL;
	struct hq_journal_stat sst, dstat;
	struct hq_errbuf eb;
	struct jbench b;
	uint64_t group = 0, max = 0, commits = 0, t0, t1;
	struct stat sb;
	size_t i;
	int a, rc, ret = 1;

	memset(&b, 0, sizeof b);
	memset(&eb, 0, sizeof eb);
	if (argc < 3)
		goto usage;
	for (a = 3; a < argc; a++) {
		if (a + 1 < argc && strcmp(argv[a], "--group") == 0) {
			if (jbench_parse_u64(argv[++a], &group) != 0)
				goto usage;
		} else if (a + 1 < argc && strcmp(argv[a], "--max") == 0) {
			if (jbench_parse_u64(argv[++a], &max) != 0)
				goto usage;
		} else
			goto usage;
	}
	if (stat(argv[2], &sb) == 0) {
		fprintf(stderr, "journal: %s: exists, refusing to write it\n",
		    argv[2]);
		goto out;
	}
	if ((rc = hq_journal_open(argv[1], &ro, &src, &eb)) != 0) {
		fprintf(stderr, "journal: %s\n",
		    eb.msg[0] ? eb.msg : hq_strerror(rc));
		goto out;
	}
	if ((rc = hq_journal_stat(src, &sst)) != 0) {
		fprintf(stderr, "journal: %s: %s\n", argv[1], hq_strerror(rc));
		goto out;
	}
	b.max = (size_t)max;
	rc = hq_journal_foreach(src, 0, UINT64_MAX, jbench_collect_cb, &b);
	if (rc < 0) {
		fprintf(stderr, "journal: %s: %s\n", argv[1], hq_strerror(rc));
		goto out;
	}
	if (b.n == 0) {
		fprintf(stderr, "journal: %s: no records\n", argv[1]);
		goto out;
	}
	if (group == 0)
		group = sst.n_commits == 0
		    ? 1
		    : (sst.n_records + sst.n_commits / 2) / sst.n_commits;
	if (group == 0)
		group = 1;

	if ((rc = hq_journal_open(argv[2], NULL, &dst, &eb)) != 0) {
		fprintf(stderr, "journal: %s\n",
		    eb.msg[0] ? eb.msg : hq_strerror(rc));
		goto out;
	}
	t0 = jbench_now_ns();
	for (i = 0; i < b.n; i++) {
		if ((rc = hq_journal_append(dst, b.recs[i].data, b.recs[i].len,
			 NULL)) != 0)
			break;
		if ((i + 1) % group == 0 || i + 1 == b.n) {
			if ((rc = hq_journal_commit(dst, &eb)) != 0)
				break;
			commits++;
		}
	}
	t1 = jbench_now_ns();
	if (rc != 0) {
		fprintf(stderr, "journal: %s: %s\n", argv[2],
		    eb.msg[0] ? eb.msg : hq_strerror(rc));
		goto out;
	}
	if ((rc = hq_journal_stat(dst, &dstat)) != 0) {
		fprintf(stderr, "journal: %s: %s\n", argv[2], hq_strerror(rc));
		goto out;
	}
	printf("{\"records\": %zu, \"record_bytes\": %" PRIu64
	       ", \"transitions\": %" PRIu64 ", \"undecodable\": %" PRIu64
	       ", \"group\": %" PRIu64 ", \"commits\": %" PRIu64
	       ", \"elapsed_ns\": %" PRIu64 ", \"file_bytes\": %" PRIu64
	       ", \"source_records\": %" PRIu64 ", \"source_commits\": %" PRIu64
	       "}\n",
	    b.n, b.bytes, b.transitions, b.undecodable, group, commits, t1 - t0,
	    dstat.file_bytes, sst.n_records, sst.n_commits);
	ret = 0;
	goto out;
usage:
	fprintf(stderr, "usage: journal SRC DST [--group K] [--max M]\n");
	ret = 2;
out:
	hq_journal_close(dst);
	hq_journal_close(src);
	for (i = 0; i < b.n; i++)
		free(b.recs[i].data);
	free(b.recs);
	return ret;
}
