/* SPDX-License-Identifier: MIT */
/*
 * Journal tests in temp dirs: round trips, meta, checkpoints, group commit,
 * the hash chain (altered with raw LMDB), prune, readers, damaged files.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"
#include "common/version.h"
#include "journal/journal.h"

struct tj {
	char dir[64];
	char path[256];
	struct hq_journal *j;
	struct hq_errbuf eb;
};

static int
setup(void **state)
{
	struct tj *t = calloc(1, sizeof *t);

	if (t == NULL)
		return -1;
	snprintf(t->dir, sizeof t->dir, "/tmp/hq-test-journal-XXXXXX");
	if (mkdtemp(t->dir) == NULL) {
		free(t);
		return -1;
	}
	snprintf(t->path, sizeof t->path, "%s/journal", t->dir);
	*state = t;
	return 0;
}

static void
rm_tree(const char *dir)
{
	struct dirent *e;
	struct stat sb;
	char p[512];
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
		if (lstat(p, &sb) == 0 && S_ISDIR(sb.st_mode))
			rm_tree(p);
		else
			unlink(p);
	}
	closedir(d);
	rmdir(dir);
}

static int
teardown(void **state)
{
	struct tj *t = *state;

	hq_journal_close(t->j);
	rm_tree(t->dir);
	free(t);
	return 0;
}

static void
open_j(struct tj *t, uint64_t map_size, bool readonly)
{
	struct hq_journal_opts o = { .map_size = map_size,
		.readonly = readonly };

	hq_journal_close(t->j);
	t->j = NULL;
	t->eb.msg[0] = '\0';
	assert_int_equal(hq_journal_open(t->path, &o, &t->j, &t->eb), 0);
	assert_non_null(t->j);
}

static void
close_j(struct tj *t)
{
	hq_journal_close(t->j);
	t->j = NULL;
}

/* Record content is a function of its seq, so readers can check it. */
static size_t
make_rec(uint64_t seq, uint8_t *buf)
{
	size_t len = (size_t)(seq % 97), i;

	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)(seq * 31 + i);
	return len;
}

static void
append_n(struct tj *t, int n)
{
	uint8_t buf[128];
	uint64_t seq, want;
	int i;

	for (i = 0; i < n; i++) {
		want = hq_journal_last_seq(t->j) + 1;
		assert_int_equal(hq_journal_append(t->j, buf,
				     make_rec(want, buf), &seq),
		    0);
		assert_int_equal(seq, want);
	}
}

static void
commit_ok(struct tj *t)
{
	int rc = hq_journal_commit(t->j, &t->eb);

	if (rc != 0)
		fail_msg("commit: %s", t->eb.msg);
	assert_int_equal(hq_journal_durable_seq(t->j),
	    hq_journal_last_seq(t->j));
}

static void
verify_ok(struct tj *t)
{
	uint64_t bad = 0;
	int rc = hq_journal_verify_chain(t->j, &bad, &t->eb);

	if (rc != 0)
		fail_msg("verify: %s", t->eb.msg);
}

struct collect {
	uint64_t n;
	uint64_t first;
	uint64_t last;
	int bad;
	uint64_t stop_at;
};

static int
collect_cb(uint64_t seq, const void *rec, size_t len, void *arg)
{
	struct collect *c = arg;
	uint8_t buf[128];
	size_t want = make_rec(seq, buf);

	if (c->n == 0)
		c->first = seq;
	else if (seq != c->last + 1)
		c->bad++;
	if (len != want || (len > 0 && memcmp(rec, buf, len) != 0))
		c->bad++;
	c->last = seq;
	c->n++;
	if (c->stop_at != 0 && seq == c->stop_at)
		return 7;
	return 0;
}

static struct collect
collect_all(struct hq_journal *j, uint64_t from, uint64_t to)
{
	struct collect c = { 0 };

	assert_int_equal(hq_journal_foreach(j, from, to, collect_cb, &c), 0);
	assert_int_equal(c.bad, 0);
	return c;
}

/* ---- raw LMDB, to damage files the way a disk or an attacker would ---- */

static MDB_env *
raw_open(const char *path)
{
	MDB_env *env;

	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 8), 0);
	assert_int_equal(mdb_env_open(env, path, MDB_NOSUBDIR, 0600), 0);
	return env;
}

/* Put (val != NULL) or delete an entry of 'db' (NULL: the main db). */
static void
raw_edit(const char *path, const char *db, const void *key, size_t klen,
    const void *val, size_t vlen)
{
	MDB_env *env = raw_open(path);
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = { klen, (void *)key }, v = { vlen, (void *)val };
	unsigned int flags = 0;

	if (db != NULL && strcmp(db, "meta") != 0)
		flags = MDB_INTEGERKEY;
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, db, flags, &dbi), 0);
	if (val != NULL)
		assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	else
		assert_int_equal(mdb_del(txn, dbi, &k, NULL), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

/* Copy of an integer-keyed value; caller frees. */
static void *
raw_get(const char *path, const char *db, uint64_t key, size_t *len)
{
	MDB_env *env = raw_open(path);
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = { sizeof key, &key }, v;
	void *p;

	assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, db, MDB_INTEGERKEY, &dbi), 0);
	assert_int_equal(mdb_get(txn, dbi, &k, &v), 0);
	p = malloc(v.mv_size);
	assert_non_null(p);
	memcpy(p, v.mv_data, v.mv_size);
	*len = v.mv_size;
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return p;
}

/* Three commits: 1..10, 11..20 (checkpoint at 20), 21..30. */
static void
three_commits(struct tj *t)
{
	open_j(t, 0, false);
	append_n(t, 10);
	commit_ok(t);
	append_n(t, 10);
	assert_int_equal(hq_journal_put_checkpoint(t->j, 20, "s20", 3), 0);
	commit_ok(t);
	append_n(t, 10);
	commit_ok(t);
	verify_ok(t);
	close_j(t);
}

/* ---- tests ---- */

static void
test_journal_round_trip(void **state)
{
	struct tj *t = *state;
	struct collect c = { 0 };
	struct stat sb;

	open_j(t, 0, false);
	assert_int_equal(hq_journal_last_seq(t->j), 0);
	append_n(t, 200);
	assert_int_equal(hq_journal_last_seq(t->j), 200);
	assert_int_equal(hq_journal_durable_seq(t->j), 0);
	/* Appended records are invisible until committed. */
	assert_int_equal(collect_all(t->j, 1, UINT64_MAX).n, 0);
	commit_ok(t);
	assert_int_equal(hq_journal_durable_seq(t->j), 200);
	close_j(t);

	assert_int_equal(stat(t->path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);

	open_j(t, 0, false);
	assert_int_equal(hq_journal_last_seq(t->j), 200);
	assert_int_equal(hq_journal_durable_seq(t->j), 200);
	c = collect_all(t->j, 1, UINT64_MAX);
	assert_int_equal(c.n, 200);
	assert_int_equal(c.first, 1);
	assert_int_equal(c.last, 200);
	c = collect_all(t->j, 50, 60);
	assert_int_equal(c.n, 11);
	assert_int_equal(c.first, 50);
	assert_int_equal(c.last, 60);
	assert_int_equal(collect_all(t->j, 300, UINT64_MAX).n, 0);
	assert_int_equal(collect_all(t->j, 60, 50).n, 0);

	/* A callback's non-zero return stops the walk and is returned. */
	memset(&c, 0, sizeof c);
	c.stop_at = 5;
	assert_int_equal(hq_journal_foreach(t->j, 1, UINT64_MAX, collect_cb,
			     &c),
	    7);
	assert_int_equal(c.n, 5);
	verify_ok(t);
}

static void
test_journal_seqs_contiguous_across_reopen(void **state)
{
	struct tj *t = *state;
	struct collect c;
	uint64_t seq;

	open_j(t, 0, false);
	append_n(t, 5);
	commit_ok(t);
	open_j(t, 0, false);
	assert_int_equal(hq_journal_last_seq(t->j), 5);
	append_n(t, 3);
	commit_ok(t);
	append_n(t, 2); /* never committed: dropped at close */
	assert_int_equal(hq_journal_last_seq(t->j), 10);
	open_j(t, 0, false);
	assert_int_equal(hq_journal_last_seq(t->j), 8);
	assert_int_equal(hq_journal_append(t->j, NULL, 1, &seq), HQ_EINVAL);
	append_n(t, 2); /* 9 and 10 (append_n checks the seqs) */
	commit_ok(t);
	open_j(t, 0, true);
	c = collect_all(t->j, 0, UINT64_MAX);
	assert_int_equal(c.n, 10);
	assert_int_equal(c.last, 10);
	verify_ok(t);
}

static void
test_journal_meta(void **state)
{
	struct tj *t = *state;
	char want[24], longkey[300];
	void *val = NULL;
	size_t len = 0;

	open_j(t, 0, false);
	assert_int_equal(hq_journal_get_meta(t->j, "access", &val, &len),
	    HQ_ENOTFOUND);
	assert_int_equal(hq_journal_put_meta(t->j, "access", "v1", 2), 0);
	/* Queued, not committed yet. */
	assert_int_equal(hq_journal_get_meta(t->j, "access", &val, &len),
	    HQ_ENOTFOUND);
	commit_ok(t);
	assert_int_equal(hq_journal_get_meta(t->j, "access", &val, &len), 0);
	assert_int_equal(len, 2);
	assert_memory_equal(val, "v1", 2);
	assert_string_equal(val, "v1"); /* the spare NUL */
	free(val);

	/* The last put of a key in a commit wins. */
	assert_int_equal(hq_journal_put_meta(t->j, "access", "v2", 2), 0);
	assert_int_equal(hq_journal_put_meta(t->j, "access", "value3", 6), 0);
	assert_int_equal(hq_journal_put_meta(t->j, "empty", NULL, 0), 0);
	commit_ok(t);

	assert_int_equal(hq_journal_put_meta(t->j, "format", "2", 1),
	    HQ_EINVAL);
	assert_int_equal(hq_journal_put_meta(t->j, "chain_base", "x", 1),
	    HQ_EINVAL);
	assert_int_equal(hq_journal_put_meta(t->j, "", "x", 1), HQ_EINVAL);
	memset(longkey, 'k', sizeof longkey - 1);
	longkey[sizeof longkey - 1] = '\0';
	assert_int_equal(hq_journal_put_meta(t->j, longkey, "x", 1), HQ_EINVAL);

	open_j(t, 0, true);
	assert_int_equal(hq_journal_get_meta(t->j, "access", &val, &len), 0);
	assert_int_equal(len, 6);
	assert_memory_equal(val, "value3", 6);
	free(val);
	assert_int_equal(hq_journal_get_meta(t->j, "empty", &val, &len), 0);
	assert_int_equal(len, 0);
	free(val);
	snprintf(want, sizeof want, "%d", HQ_JOURNAL_FORMAT);
	assert_int_equal(hq_journal_get_meta(t->j, "format", &val, &len), 0);
	assert_string_equal(val, want);
	free(val);
}

struct ckpts {
	uint64_t seqs[8];
	int n;
};

static int
ckpt_cb(uint64_t seq, HQ_UNUSED const void *snap, HQ_UNUSED size_t len,
    void *arg)
{
	struct ckpts *c = arg;

	if (c->n < 8)
		c->seqs[c->n] = seq;
	c->n++;
	return 0;
}

static void
assert_latest(struct tj *t, uint64_t seq, const char *snap)
{
	uint64_t s = 0;
	void *p = NULL;
	size_t len = 0;

	assert_int_equal(hq_journal_latest_checkpoint(t->j, &s, &p, &len), 0);
	assert_int_equal(s, seq);
	assert_int_equal(len, strlen(snap));
	assert_memory_equal(p, snap, len);
	free(p);
}

static void
test_journal_checkpoints(void **state)
{
	struct tj *t = *state;
	struct hq_journal_stat st;
	struct ckpts c = { { 0 }, 0 };
	uint64_t s;
	void *p;
	size_t len;

	open_j(t, 0, false);
	assert_int_equal(hq_journal_latest_checkpoint(t->j, &s, &p, &len),
	    HQ_ENOTFOUND);
	assert_int_equal(hq_journal_put_checkpoint(t->j, 0, "zero", 4), 0);
	append_n(t, 15);
	assert_int_equal(hq_journal_put_checkpoint(t->j, 10, "ten", 3), 0);
	assert_int_equal(hq_journal_put_checkpoint(t->j, 15, "fifteen", 7), 0);
	assert_int_equal(hq_journal_put_checkpoint(t->j, 16, "x", 1),
	    HQ_EINVAL);
	commit_ok(t);
	assert_latest(t, 15, "fifteen");
	assert_int_equal(hq_journal_foreach_checkpoint(t->j, ckpt_cb, &c), 0);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.seqs[0], 0);
	assert_int_equal(c.seqs[1], 10);
	assert_int_equal(c.seqs[2], 15);
	/* The commit is cut at the checkpoint inside it: 1..10, 11..15. */
	assert_int_equal(hq_journal_stat(t->j, &st), 0);
	assert_int_equal(st.n_commits, 2);
	assert_int_equal(st.n_checkpoints, 3);
	assert_int_equal(st.last_checkpoint_seq, 15);
	verify_ok(t);

	/* Seqs inside stored commits have no link: refused. */
	assert_int_equal(hq_journal_put_checkpoint(t->j, 12, "x", 1),
	    HQ_EINVAL);
	assert_int_equal(hq_journal_put_checkpoint(t->j, 15, "again", 5), 0);
	commit_ok(t);
	assert_latest(t, 15, "again");

	append_n(t, 1);
	assert_int_equal(hq_journal_put_checkpoint(t->j, 16, "a", 1), 0);
	assert_int_equal(hq_journal_put_checkpoint(t->j, 16, "b", 1), 0);
	commit_ok(t);
	assert_latest(t, 16, "b");
	verify_ok(t);

	open_j(t, 0, true);
	assert_latest(t, 16, "b");
	/* seq only */
	assert_int_equal(hq_journal_latest_checkpoint(t->j, &s, NULL, NULL), 0);
	assert_int_equal(s, 16);
	verify_ok(t);
}

/* Wait on the eventfd until everything appended is durable. */
static void
wait_durable(struct tj *t)
{
	struct pollfd pfd;
	uint64_t durable = 0, prev = hq_journal_durable_seq(t->j);
	int rounds = 0, rc;

	pfd.fd = hq_journal_event_fd(t->j);
	pfd.events = POLLIN;
	assert_true(pfd.fd >= 0);
	while (hq_journal_durable_seq(t->j) < hq_journal_last_seq(t->j)) {
		assert_true(++rounds < 100000);
		rc = poll(&pfd, 1, 10000);
		assert_true(rc > 0); /* not a 10 s timeout */
		rc = hq_journal_poll(t->j, &durable, &t->eb);
		if (rc != 0)
			fail_msg("poll: %s", t->eb.msg);
		assert_true(durable >= prev);
		assert_int_equal(durable, hq_journal_durable_seq(t->j));
		prev = durable;
	}
}

static void
test_journal_async_commit(void **state)
{
	struct tj *t = *state;
	struct hq_journal_stat st;
	struct collect c;
	int i;

	open_j(t, 0, false);
	for (i = 0; i < 100; i++) {
		append_n(t, 100);
		assert_int_equal(hq_journal_flush_async(t->j), 0);
	}
	assert_int_equal(hq_journal_flush_async(t->j), 0); /* nothing new */
	wait_durable(t);
	assert_int_equal(hq_journal_durable_seq(t->j), 10000);
	assert_int_equal(hq_journal_stat(t->j, &st), 0);
	assert_int_equal(st.n_records, 10000);
	assert_int_equal(st.first_seq, 1);
	assert_int_equal(st.last_seq, 10000);
	assert_true(st.n_commits >= 1 && st.n_commits <= 100);
	verify_ok(t);

	/* A sync commit drains the writer first, then commits the rest. */
	append_n(t, 10);
	assert_int_equal(hq_journal_flush_async(t->j), 0);
	append_n(t, 5);
	assert_int_equal(hq_journal_put_checkpoint(t->j, 10015, "ck", 2), 0);
	commit_ok(t);
	assert_int_equal(hq_journal_durable_seq(t->j), 10015);

	/* A checkpoint handed over asynchronously, at the handed seq. */
	append_n(t, 5);
	assert_int_equal(hq_journal_flush_async(t->j), 0);
	assert_int_equal(hq_journal_put_checkpoint(t->j, 10020, "ck2", 3), 0);
	assert_int_equal(hq_journal_flush_async(t->j), 0);
	assert_int_equal(hq_journal_put_meta(t->j, "k", "v", 1), 0);
	assert_int_equal(hq_journal_flush_async(t->j), 0);
	commit_ok(t);
	assert_latest(t, 10020, "ck2");

	open_j(t, 0, true);
	c = collect_all(t->j, 1, UINT64_MAX);
	assert_int_equal(c.n, 10020);
	assert_int_equal(c.last, 10020);
	verify_ok(t);
}

static void
test_journal_close_commits_handed_batches(void **state)
{
	struct tj *t = *state;

	open_j(t, 0, false);
	append_n(t, 1000);
	assert_int_equal(hq_journal_flush_async(t->j), 0);
	append_n(t, 10); /* not handed over: dropped */
	close_j(t);
	open_j(t, 0, true);
	assert_int_equal(hq_journal_last_seq(t->j), 1000);
	assert_int_equal(collect_all(t->j, 1, UINT64_MAX).n, 1000);
	verify_ok(t);
}

static void
test_journal_verify_detects_modified_record(void **state)
{
	struct tj *t = *state;
	uint64_t key = 15, bad = 0;
	uint8_t *v;
	size_t len;

	three_commits(t);
	/* One bit of one record, same length. */
	v = raw_get(t->path, "events", key, &len);
	assert_int_equal(len, 15);
	v[3] ^= 0x10;
	raw_edit(t->path, "events", &key, sizeof key, v, len);
	free(v);
	open_j(t, 0, false);
	assert_int_equal(hq_journal_verify_chain(t->j, &bad, &t->eb),
	    HQ_ECORRUPT);
	assert_int_equal(bad, 11);
	assert_non_null(strstr(t->eb.msg, "11..20"));
	assert_non_null(strstr(t->eb.msg, t->path));
}

static void
test_journal_verify_detects_missing_record(void **state)
{
	struct tj *t = *state;
	uint64_t key = 25, bad = 0;

	three_commits(t);
	raw_edit(t->path, "events", &key, sizeof key, NULL, 0);
	open_j(t, 0, true);
	assert_int_equal(hq_journal_verify_chain(t->j, &bad, &t->eb),
	    HQ_ECORRUPT);
	assert_int_equal(bad, 21);
	assert_non_null(strstr(t->eb.msg, "record 25"));
}

static void
test_journal_verify_detects_bad_checkpoint(void **state)
{
	struct tj *t = *state;
	uint64_t bad = 0;
	uint8_t *v;
	size_t len;

	three_commits(t);
	v = raw_get(t->path, "checkpoints", 20, &len);
	/* link || digest of the snapshot || snapshot ("abc") */
	assert_true(len == 2 * HQ_JOURNAL_LINK_LEN + 3);
	v[0] ^= 1;
	bad = 20;
	raw_edit(t->path, "checkpoints", &bad, sizeof bad, v, len);
	open_j(t, 0, true);
	assert_int_equal(hq_journal_verify_chain(t->j, &bad, &t->eb),
	    HQ_ECORRUPT);
	assert_int_equal(bad, 11);
	assert_non_null(strstr(t->eb.msg, "checkpoint at seq 20"));
	hq_journal_close(t->j);
	t->j = NULL;

	/* A damaged snapshot under an intact link: the digest catches it,
	 * and readers refuse to hand it out. */
	v[0] ^= 1;
	v[len - 1] ^= 1;
	bad = 20;
	raw_edit(t->path, "checkpoints", &bad, sizeof bad, v, len);
	free(v);
	open_j(t, 0, true);
	assert_int_equal(hq_journal_verify_chain(t->j, &bad, &t->eb),
	    HQ_ECORRUPT);
	assert_int_equal(bad, 20);
	assert_non_null(strstr(t->eb.msg, "digest"));
	{
		uint64_t seq;
		void *snap = NULL;

		assert_int_equal(hq_journal_latest_checkpoint(t->j, &seq, &snap,
				     &len),
		    HQ_ECORRUPT);
		assert_null(snap);
	}
}

static void
test_journal_records_past_chain_refused(void **state)
{
	struct tj *t = *state;
	struct hq_journal_opts o = { 0 };
	uint64_t key = 31, bad = 0;

	three_commits(t);
	raw_edit(t->path, "events", &key, sizeof key, "x", 1);
	/* A writer would build on a damaged chain: refused. */
	assert_int_equal(hq_journal_open(t->path, &o, &t->j, &t->eb),
	    HQ_ECORRUPT);
	assert_null(t->j);
	assert_non_null(strstr(t->eb.msg, "damaged"));
	/* A reader can look, and verify names the record. */
	open_j(t, 0, true);
	assert_int_equal(hq_journal_verify_chain(t->j, &bad, &t->eb),
	    HQ_ECORRUPT);
	assert_int_equal(bad, 31);
}

static void
test_journal_prune_keeps_verify(void **state)
{
	struct tj *t = *state;
	struct hq_journal_stat st;
	struct collect c;
	uint64_t seq;

	open_j(t, 0, false);
	append_n(t, 10);
	commit_ok(t);
	append_n(t, 10);
	assert_int_equal(hq_journal_put_checkpoint(t->j, 20, "c20", 3), 0);
	commit_ok(t);
	append_n(t, 10);
	commit_ok(t);
	append_n(t, 10);
	assert_int_equal(hq_journal_put_checkpoint(t->j, 40, "c40", 3), 0);
	commit_ok(t);
	append_n(t, 10);
	commit_ok(t);

	/* No checkpoint <= 5: all history is still needed. */
	assert_int_equal(hq_journal_prune(t->j, 5, &t->eb), 0);
	assert_int_equal(hq_journal_stat(t->j, &st), 0);
	assert_int_equal(st.first_seq, 1);
	assert_int_equal(st.n_records, 50);

	/* Cut at checkpoint 20. */
	assert_int_equal(hq_journal_prune(t->j, 35, &t->eb), 0);
	assert_int_equal(hq_journal_stat(t->j, &st), 0);
	assert_int_equal(st.first_seq, 21);
	assert_int_equal(st.n_records, 30);
	assert_int_equal(st.n_checkpoints, 2);
	verify_ok(t);

	/* before == checkpoint 40: records < 40 go up to the boundary 30. */
	assert_int_equal(hq_journal_prune(t->j, 40, &t->eb), 0);
	assert_int_equal(hq_journal_stat(t->j, &st), 0);
	assert_int_equal(st.first_seq, 31);
	assert_int_equal(st.n_checkpoints, 1);
	assert_latest(t, 40, "c40");
	verify_ok(t);

	/* Everything up to a checkpoint at the end. */
	append_n(t, 10);
	assert_int_equal(hq_journal_put_checkpoint(t->j, 60, "c60", 3), 0);
	commit_ok(t);
	assert_int_equal(hq_journal_prune(t->j, 61, &t->eb), 0);
	assert_int_equal(hq_journal_stat(t->j, &st), 0);
	assert_int_equal(st.n_records, 0);
	assert_int_equal(st.n_commits, 0);
	assert_int_equal(st.n_checkpoints, 1);
	verify_ok(t);

	/* Seqs go on after a reopen of the emptied log. */
	open_j(t, 0, false);
	assert_int_equal(hq_journal_last_seq(t->j), 60);
	append_n(t, 3);
	commit_ok(t);
	verify_ok(t);
	c = collect_all(t->j, 1, UINT64_MAX);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.first, 61);
	assert_int_equal(hq_journal_latest_checkpoint(t->j, &seq, NULL, NULL),
	    0);
	assert_int_equal(seq, 60);
}

/* Runs in a child: open read-only and check what is there. */
static int
child_reader(const char *path, uint64_t want)
{
	struct hq_journal_opts o = { .readonly = true };
	struct hq_journal *r = NULL;
	struct hq_errbuf eb;
	struct collect c = { 0 };
	uint64_t bad;

	if (hq_journal_open(path, &o, &r, &eb) != 0)
		return 10;
	if (hq_journal_foreach(r, 1, UINT64_MAX, collect_cb, &c) != 0 ||
	    c.bad != 0 || c.n != want)
		return 11;
	if (hq_journal_verify_chain(r, &bad, &eb) != 0)
		return 12;
	if (hq_journal_append(r, "x", 1, NULL) != HQ_EINVAL)
		return 13;
	hq_journal_close(r);
	return 0;
}

static int
run_child(int (*fn)(const char *, uint64_t), const char *path, uint64_t arg)
{
	pid_t pid;
	int status;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(fn(path, arg));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void
test_journal_readonly_while_writer_open(void **state)
{
	struct tj *t = *state;

	open_j(t, 0, false);
	append_n(t, 100);
	commit_ok(t);
	append_n(t, 7); /* uncommitted: not seen */
	assert_int_equal(run_child(child_reader, t->path, 100), 0);
	commit_ok(t);
	assert_int_equal(run_child(child_reader, t->path, 107), 0);
	append_n(t, 3);
	commit_ok(t);
	verify_ok(t);
}

static int
child_writer(const char *path, HQ_UNUSED uint64_t unused)
{
	struct hq_journal *w = NULL;
	struct hq_errbuf eb;
	int rc;

	rc = hq_journal_open(path, NULL, &w, &eb);
	hq_journal_close(w);
	if (rc != HQ_EBUSY || strstr(eb.msg, path) == NULL)
		return 20;
	return 0;
}

static void
test_journal_second_writer_busy(void **state)
{
	struct tj *t = *state;

	open_j(t, 0, false);
	append_n(t, 5);
	commit_ok(t);
	assert_int_equal(run_child(child_writer, t->path, 0), 0);
	close_j(t);
	/* Once closed, another writer may take it. */
	open_j(t, 0, false);
	assert_int_equal(hq_journal_last_seq(t->j), 5);
}

static void
test_journal_readonly_refuses_writes(void **state)
{
	struct tj *t = *state;
	struct hq_journal_opts o = { .readonly = true };
	struct hq_journal *r = NULL;
	uint64_t d;

	assert_int_equal(hq_journal_open(t->path, &o, &r, &t->eb), -ENOENT);
	assert_null(r);
	assert_non_null(strstr(t->eb.msg, t->path));

	open_j(t, 0, false);
	append_n(t, 2);
	commit_ok(t);
	open_j(t, 0, true);
	assert_int_equal(hq_journal_last_seq(t->j), 2);
	assert_int_equal(hq_journal_append(t->j, "x", 1, NULL), HQ_EINVAL);
	assert_int_equal(hq_journal_put_meta(t->j, "k", "v", 1), HQ_EINVAL);
	assert_int_equal(hq_journal_put_checkpoint(t->j, 2, "v", 1), HQ_EINVAL);
	assert_int_equal(hq_journal_commit(t->j, &t->eb), HQ_EINVAL);
	assert_int_equal(hq_journal_flush_async(t->j), HQ_EINVAL);
	assert_int_equal(hq_journal_event_fd(t->j), HQ_EINVAL);
	assert_int_equal(hq_journal_poll(t->j, &d, &t->eb), HQ_EINVAL);
	assert_int_equal(hq_journal_prune(t->j, 2, &t->eb), HQ_EINVAL);
}

static void
test_journal_format_mismatch(void **state)
{
	struct tj *t = *state;
	struct hq_journal_opts ro = { .readonly = true };

	open_j(t, 0, false);
	append_n(t, 1);
	commit_ok(t);
	close_j(t);

	raw_edit(t->path, "meta", "format", 6, "7", 1);
	assert_int_equal(hq_journal_open(t->path, NULL, &t->j, &t->eb),
	    HQ_EVERSION);
	assert_null(t->j);
	assert_non_null(strstr(t->eb.msg,
	    "has format 7, this hq reads "
	    "format 1"));
	assert_non_null(strstr(t->eb.msg, t->path));
	assert_int_equal(hq_journal_open(t->path, &ro, &t->j, &t->eb),
	    HQ_EVERSION);

	raw_edit(t->path, "meta", "format", 6, "one", 3);
	assert_int_equal(hq_journal_open(t->path, NULL, &t->j, &t->eb),
	    HQ_EVERSION);
	assert_non_null(strstr(t->eb.msg, "unreadable format"));

	raw_edit(t->path, "meta", "format", 6, NULL, 0);
	assert_int_equal(hq_journal_open(t->path, NULL, &t->j, &t->eb),
	    HQ_EVERSION);
	assert_non_null(strstr(t->eb.msg, "no format"));
}

static void
test_journal_foreign_lmdb_refused(void **state)
{
	struct tj *t = *state;

	/* Some other program's LMDB file: a key in the main database. */
	raw_edit(t->path, NULL, "hello", 5, "world", 5);
	assert_int_equal(hq_journal_open(t->path, NULL, &t->j, &t->eb),
	    HQ_EVERSION);
	assert_non_null(strstr(t->eb.msg, "not an hq journal"));
	/* Refused again: the first attempt did not turn it into a journal. */
	assert_int_equal(hq_journal_open(t->path, NULL, &t->j, &t->eb),
	    HQ_EVERSION);
}

static void
fill_journal(struct tj *t, int commits, int per_commit, uint64_t map)
{
	uint8_t buf[1000];
	int i, k;

	open_j(t, map, false);
	memset(buf, 0x5a, sizeof buf);
	for (i = 0; i < commits; i++) {
		for (k = 0; k < per_commit; k++)
			assert_int_equal(hq_journal_append(t->j, buf,
					     sizeof buf, NULL),
			    0);
		commit_ok(t);
	}
}

static int
count_cb(HQ_UNUSED uint64_t seq, HQ_UNUSED const void *rec,
    HQ_UNUSED size_t len, void *arg)
{
	(*(uint64_t *)arg)++;
	return 0;
}

static uint64_t
count_records(struct hq_journal *j)
{
	uint64_t n = 0;

	assert_int_equal(hq_journal_foreach(j, 1, UINT64_MAX, count_cb, &n), 0);
	return n;
}

static void
test_journal_map_full(void **state)
{
	struct tj *t = *state;
	uint8_t buf[1000];
	uint64_t durable = 0;
	int i, k, rc = 0;

	memset(buf, 0xa5, sizeof buf);
	open_j(t, 1 << 20, false);
	for (i = 0; i < 1000 && rc == 0; i++) {
		for (k = 0; k < 20; k++)
			assert_int_equal(hq_journal_append(t->j, buf,
					     sizeof buf, NULL),
			    0);
		if ((rc = hq_journal_commit(t->j, &t->eb)) == 0)
			durable = hq_journal_last_seq(t->j);
	}
	assert_int_equal(rc, HQ_EJOURNAL_FULL);
	assert_true(durable > 0);
	assert_non_null(strstr(t->eb.msg, t->path));
	assert_int_equal(hq_journal_durable_seq(t->j), durable);
	/* Stuck: every write refuses with the same error. */
	assert_int_equal(hq_journal_append(t->j, buf, 1, NULL),
	    HQ_EJOURNAL_FULL);
	assert_int_equal(hq_journal_flush_async(t->j), HQ_EJOURNAL_FULL);
	assert_int_equal(hq_journal_commit(t->j, &t->eb), HQ_EJOURNAL_FULL);
	/* Reads still work. */
	assert_int_equal(count_records(t->j), durable);

	open_j(t, 1 << 20, false);
	assert_int_equal(hq_journal_last_seq(t->j), durable);
	assert_int_equal(count_records(t->j), durable);
	verify_ok(t);
	/* A bigger map lets it go on. */
	open_j(t, 0, false);
	assert_int_equal(hq_journal_append(t->j, buf, sizeof buf, NULL), 0);
	commit_ok(t);
	verify_ok(t);
}

static void
test_journal_async_map_full(void **state)
{
	struct tj *t = *state;
	struct pollfd pfd;
	uint8_t buf[1000];
	uint64_t durable;
	int i, k, rc = 0;

	memset(buf, 0x3c, sizeof buf);
	open_j(t, 1 << 20, false);
	pfd.fd = hq_journal_event_fd(t->j);
	pfd.events = POLLIN;
	for (i = 0; i < 1000 && rc == 0; i++) {
		for (k = 0; k < 20 && rc == 0; k++)
			rc = hq_journal_append(t->j, buf, sizeof buf, NULL);
		if (rc == 0)
			rc = hq_journal_flush_async(t->j);
		if (rc == 0) {
			assert_true(poll(&pfd, 1, 10000) > 0);
			rc = hq_journal_poll(t->j, &durable, &t->eb);
		}
	}
	assert_int_equal(rc, HQ_EJOURNAL_FULL);
	assert_int_equal(hq_journal_poll(t->j, &durable, &t->eb),
	    HQ_EJOURNAL_FULL);
	assert_non_null(strstr(t->eb.msg, t->path));
	durable = hq_journal_durable_seq(t->j);
	assert_true(durable > 0);
	assert_int_equal(hq_journal_append(t->j, buf, 1, NULL),
	    HQ_EJOURNAL_FULL);
	open_j(t, 0, true);
	assert_int_equal(hq_journal_last_seq(t->j), durable);
	verify_ok(t);
}

static void
write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

static void *
read_file(const char *path, size_t *n)
{
	struct stat sb;
	FILE *f;
	void *p;

	assert_int_equal(stat(path, &sb), 0);
	*n = (size_t)sb.st_size;
	p = malloc(*n + 1);
	assert_non_null(p);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fread(p, 1, *n, f), *n);
	fclose(f);
	return p;
}

/* Both open modes refuse 'path' with a message naming it. */
static void
assert_refused(struct tj *t, int want)
{
	struct hq_journal_opts ro = { .readonly = true };
	int rc;

	rc = hq_journal_open(t->path, NULL, &t->j, &t->eb);
	assert_int_equal(rc, want);
	assert_null(t->j);
	assert_non_null(strstr(t->eb.msg, t->path));
	rc = hq_journal_open(t->path, &ro, &t->j, &t->eb);
	assert_int_equal(rc, want);
	assert_null(t->j);
	assert_non_null(strstr(t->eb.msg, t->path));
}

static void
test_journal_garbage_file_refused(void **state)
{
	struct tj *t = *state;
	uint8_t garbage[65536];
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	size_t i, n;
	void *after;

	for (i = 0; i < sizeof garbage; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		garbage[i] = (uint8_t)x;
	}
	write_file(t->path, garbage, sizeof garbage);
	assert_refused(t, HQ_ECORRUPT);
	assert_non_null(strstr(t->eb.msg, "not an LMDB file"));
	/* The writer did not "repair" it. */
	after = read_file(t->path, &n);
	assert_int_equal(n, sizeof garbage);
	assert_memory_equal(after, garbage, n);
	free(after);

	write_file(t->path, garbage, 100);
	assert_refused(t, HQ_ECORRUPT);

	unlink(t->path);
	assert_int_equal(mkdir(t->path, 0700), 0);
	assert_refused(t, -EISDIR);
}

static void
test_journal_truncated_file_refused(void **state)
{
	struct tj *t = *state;
	struct stat sb;

	fill_journal(t, 20, 100, 0);
	close_j(t);
	assert_int_equal(stat(t->path, &sb), 0);
	assert_true(sb.st_size > 1000000);
	assert_int_equal(truncate(t->path, sb.st_size / 2), 0);
	assert_refused(t, HQ_ECORRUPT);
	assert_non_null(strstr(t->eb.msg, "truncated"));

	/* Down to less than the two meta pages. */
	assert_int_equal(truncate(t->path, 5000), 0);
	assert_refused(t, HQ_ECORRUPT);
}

static void
test_journal_empty_file(void **state)
{
	struct tj *t = *state;
	struct hq_journal_opts ro = { .readonly = true };

	/* A reader finds no journal in an empty file... */
	write_file(t->path, "", 0);
	assert_true(hq_journal_open(t->path, &ro, &t->j, &t->eb) < 0);
	assert_null(t->j);
	assert_non_null(strstr(t->eb.msg, t->path));
	/* ...and a writer makes one. */
	open_j(t, 0, false);
	append_n(t, 1);
	commit_ok(t);
	verify_ok(t);
}

static void
test_journal_copy_and_stat(void **state)
{
	struct tj *t = *state;
	struct hq_journal_stat st;
	char dst[256];
	struct stat sb;
	uint64_t bytes = 0, s;

	snprintf(dst, sizeof dst, "%s/copy", t->dir);
	open_j(t, 0, false);
	append_n(t, 300);
	assert_int_equal(hq_journal_put_checkpoint(t->j, 300, "snap", 4), 0);
	commit_ok(t);
	for (s = 1; s <= 300; s++)
		bytes += s % 97;
	assert_int_equal(hq_journal_stat(t->j, &st), 0);
	assert_int_equal(st.first_seq, 1);
	assert_int_equal(st.last_seq, 300);
	assert_int_equal(st.n_records, 300);
	assert_int_equal(st.record_bytes, bytes);
	assert_int_equal(st.n_checkpoints, 1);
	assert_int_equal(st.last_checkpoint_seq, 300);
	assert_int_equal(st.n_commits, 1);
	assert_true(st.file_bytes > 0);

	assert_int_equal(hq_journal_copy(t->j, dst, &t->eb), 0);
	assert_int_equal(hq_journal_copy(t->j, dst, &t->eb), -EEXIST);
	assert_int_equal(stat(dst, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	close_j(t);
	snprintf(t->path, sizeof t->path, "%s", dst);
	open_j(t, 0, true);
	assert_int_equal(collect_all(t->j, 1, UINT64_MAX).n, 300);
	assert_latest(t, 300, "snap");
	verify_ok(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_journal_round_trip),
		T(test_journal_seqs_contiguous_across_reopen),
		T(test_journal_meta),
		T(test_journal_checkpoints),
		T(test_journal_async_commit),
		T(test_journal_close_commits_handed_batches),
		T(test_journal_verify_detects_modified_record),
		T(test_journal_verify_detects_missing_record),
		T(test_journal_verify_detects_bad_checkpoint),
		T(test_journal_records_past_chain_refused),
		T(test_journal_prune_keeps_verify),
		T(test_journal_readonly_while_writer_open),
		T(test_journal_second_writer_busy),
		T(test_journal_readonly_refuses_writes),
		T(test_journal_format_mismatch),
		T(test_journal_foreign_lmdb_refused),
		T(test_journal_map_full),
		T(test_journal_async_map_full),
		T(test_journal_garbage_file_refused),
		T(test_journal_truncated_file_refused),
		T(test_journal_empty_file),
		T(test_journal_copy_and_stat),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
