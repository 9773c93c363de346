/* SPDX-License-Identifier: MIT */
/*
 * The journal on LMDB: record batches, group commit on a writer thread, the
 * SHA-256 chain, checkpoints, verification and pruning. The only file that
 * includes <lmdb.h>.
 */
#include "journal/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <lmdb.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/version.h"

#define JOURNAL_DEFAULT_MAP (64ULL << 30)
#define JOURNAL_MAX_KEY	    255
#define JOURNAL_LINK	    HQ_JOURNAL_LINK_LEN
#define JOURNAL_CHAIN_VAL   (8 + JOURNAL_LINK)
/* A checkpoint value: chain link || SHA-256 of the snapshot || snapshot. */
#define JOURNAL_CKPT_HDR (2 * JOURNAL_LINK)

struct journal_meta {
	char *key;
	void *val;
	size_t len;
};

struct journal_ckpt {
	uint64_t seq;
	size_t order; /* position among the checkpoints of one commit */
	void *snap;
	size_t len;
};

/* What one flush hands to a commit: records first_seq.., metas, checkpoints. */
struct journal_batch {
	struct journal_batch *next;
	uint64_t first_seq;
	size_t *end; /* end offset of record i in data */
	size_t nrec;
	size_t caprec;
	struct hq_buf data;
	struct journal_meta *meta;
	size_t nmeta;
	size_t capmeta;
	struct journal_ckpt *ckpt;
	size_t nckpt;
	size_t capckpt;
};

struct hq_journal {
	char *path;
	bool readonly;
	bool recover;
	MDB_env *env;
	MDB_dbi events;
	MDB_dbi chain;
	MDB_dbi ckpts;
	MDB_dbi meta;
	EVP_MD *sha;

	/* The loop thread only. */
	struct journal_batch *cur;
	uint64_t last_seq;
	uint64_t handed_seq; /* last seq handed to a commit */
	uint64_t durable_seq;
	int err; /* sticky: a commit failed */
	struct hq_errbuf errmsg;

	/* Whoever commits; commits never overlap (sync ones drain first). */
	uint64_t head_seq;
	uint8_t head_link[JOURNAL_LINK];
	EVP_MD_CTX *md;

	/* Shared with the writer thread, under mu. */
	pthread_mutex_t mu;
	pthread_cond_t wake; /* work handed over, or stop */
	pthread_cond_t idle; /* a transaction finished */
	pthread_t thread;
	bool started;
	bool stop;
	bool busy;
	struct journal_batch *qhead;
	struct journal_batch *qtail;
	struct journal_batch *spare;
	uint64_t done_seq;
	int werr;
	struct hq_errbuf werrmsg;
	int efd;
};

static const char *journal_reserved[] = { "format", "chain_base",
	"chain_base_seq" };

static void
journal_put_le64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t
journal_get_le64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* Integer keys are native uint64 but unaligned in the map: copy them. */
static bool
journal_key(const MDB_val *k, uint64_t *seq)
{
	if (k->mv_size != sizeof *seq)
		return false;
	memcpy(seq, k->mv_data, sizeof *seq);
	return true;
}

static int
journal_rc(int mrc)
{
	switch (mrc) {
	case 0:
		return 0;
	case MDB_MAP_FULL:
	case ENOSPC:
		return HQ_EJOURNAL_FULL;
	case MDB_INVALID:
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
		return HQ_ECORRUPT;
	case MDB_VERSION_MISMATCH:
		return HQ_EVERSION;
	}
	if (mrc > 0)
		return -mrc;
	return HQ_EJOURNAL;
}

static int
journal_mdb_err(const struct hq_journal *j, struct hq_errbuf *eb, int mrc,
    const char *what)
{
	return hq_errf(eb, journal_rc(mrc), "journal %s: %s: %s", j->path, what,
	    mdb_strerror(mrc));
}

static void
journal_copy_err(struct hq_errbuf *eb, const struct hq_errbuf *from)
{
	if (eb != NULL && eb != from)
		memcpy(eb, from, sizeof *eb);
}

static int journal_corrupt(const struct hq_journal *, struct hq_errbuf *,
    uint64_t *, uint64_t, const char *, ...) HQ_PRINTF(5, 6);

/* A chain or checkpoint problem: HQ_ECORRUPT naming the path and 'seq'. */
static int
journal_corrupt(const struct hq_journal *j, struct hq_errbuf *eb,
    uint64_t *bad_seq, uint64_t seq, const char *fmt, ...)
{
	char what[384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	if (bad_seq != NULL)
		*bad_seq = seq;
	return hq_errf(eb, HQ_ECORRUPT,
	    "journal %s: %s (first bad seq %" PRIu64 ")", j->path, what, seq);
}

static struct journal_batch *
journal_batch_new(void)
{
	struct journal_batch *b = hq_xcalloc(1, sizeof *b);

	hq_buf_init(&b->data);
	return b;
}

static void
journal_batch_reset(struct journal_batch *b)
{
	size_t i;

	for (i = 0; i < b->nmeta; i++) {
		free(b->meta[i].key);
		free(b->meta[i].val);
	}
	for (i = 0; i < b->nckpt; i++)
		free(b->ckpt[i].snap);
	b->nrec = b->nmeta = b->nckpt = 0;
	hq_buf_reset(&b->data);
}

static void
journal_batch_free(struct journal_batch *b)
{
	if (b == NULL)
		return;
	journal_batch_reset(b);
	free(b->end);
	free(b->meta);
	free(b->ckpt);
	hq_buf_fini(&b->data);
	free(b);
}

static bool
journal_batch_empty(const struct journal_batch *b)
{
	return b->nrec == 0 && b->nmeta == 0 && b->nckpt == 0;
}

/* Last record seq in a list of batches, 0 if none holds a record. */
static uint64_t
journal_list_last(const struct journal_batch *b)
{
	uint64_t last = 0;

	for (; b != NULL; b = b->next) {
		if (b->nrec > 0)
			last = b->first_seq + b->nrec - 1;
	}
	return last;
}

static int
journal_ckpt_cmp(const void *a, const void *b)
{
	const struct journal_ckpt *x = *(const struct journal_ckpt *const *)a;
	const struct journal_ckpt *y = *(const struct journal_ckpt *const *)b;

	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	if (x->order != y->order)
		return x->order < y->order ? -1 : 1;
	return 0;
}

/* Store a checkpoint as link || digest || snapshot, written in place: the
 * link ties it to the chain, the digest covers its own bytes. */
static int
journal_put_ckpt(MDB_txn *txn, MDB_dbi dbi, uint64_t seq, const uint8_t *link,
    const struct journal_ckpt *c)
{
	MDB_val k = { sizeof seq, &seq };
	MDB_val v = { JOURNAL_CKPT_HDR + c->len, NULL };
	unsigned int n = 0;
	int mrc;

	if ((mrc = mdb_put(txn, dbi, &k, &v, MDB_RESERVE)) != 0)
		return mrc;
	memcpy(v.mv_data, link, JOURNAL_LINK);
	if (!EVP_Digest(c->len ? c->snap : (const void *)"", c->len,
		(uint8_t *)v.mv_data + JOURNAL_LINK, &n, EVP_sha256(), NULL) ||
	    n != JOURNAL_LINK)
		return EIO;
	if (c->len > 0)
		memcpy((uint8_t *)v.mv_data + JOURNAL_CKPT_HDR, c->snap,
		    c->len);
	return 0;
}

/* The snapshot of a stored checkpoint value, if its digest matches. */
static int
journal_ckpt_body(const MDB_val *v, const uint8_t **snap, size_t *len)
{
	uint8_t digest[JOURNAL_LINK];
	unsigned int n = 0;

	if (v->mv_size < JOURNAL_CKPT_HDR)
		return HQ_ECORRUPT;
	*snap = (const uint8_t *)v->mv_data + JOURNAL_CKPT_HDR;
	*len = v->mv_size - JOURNAL_CKPT_HDR;
	if (!EVP_Digest(*len ? (const void *)*snap : (const void *)"", *len,
		digest, &n, EVP_sha256(), NULL) ||
	    n != JOURNAL_LINK ||
	    memcmp(digest, (const uint8_t *)v->mv_data + JOURNAL_LINK,
		JOURNAL_LINK) != 0)
		return HQ_ECORRUPT;
	return 0;
}

static int
journal_hash_rec(EVP_MD_CTX *md, uint64_t seq, const void *p, size_t len)
{
	uint8_t hdr[12];
	uint32_t n = (uint32_t)len;
	int i;

	journal_put_le64(hdr, seq);
	for (i = 0; i < 4; i++)
		hdr[8 + i] = (uint8_t)(n >> (8 * i));
	if (!EVP_DigestUpdate(md, hdr, sizeof hdr) ||
	    (len > 0 && !EVP_DigestUpdate(md, p, len)))
		return HQ_EJOURNAL;
	return 0;
}

static int
journal_hash_start(EVP_MD_CTX *md, const EVP_MD *sha, const uint8_t *link)
{
	if (!EVP_DigestInit_ex(md, sha, NULL) ||
	    !EVP_DigestUpdate(md, link, JOURNAL_LINK))
		return HQ_EJOURNAL;
	return 0;
}

static int
journal_hash_end(EVP_MD_CTX *md, uint8_t *link)
{
	unsigned int n = 0;

	if (!EVP_DigestFinal_ex(md, link, &n) || n != JOURNAL_LINK)
		return HQ_EJOURNAL;
	return 0;
}

/*
 * Write the batches of 'list' in one synced transaction: records appended,
 * one chain entry (cut at checkpoint seqs), checkpoints, metas. The head
 * moves only when the commit succeeded.
 */
static int
journal_txn_commit(struct hq_journal *j, struct journal_batch *list,
    struct hq_errbuf *eb)
{
	MDB_txn *txn = NULL;
	MDB_cursor *cur = NULL;
	struct journal_ckpt **cks = NULL;
	struct journal_batch *b;
	size_t ncks = 0, capcks = 0, ci = 0, i, start;
	uint64_t last_all, seq, prev, seg_first = 0;
	uint8_t link[JOURNAL_LINK], cval[JOURNAL_CHAIN_VAL];
	MDB_val k, v;
	bool open_seg = false;
	int mrc = 0, rc;
	const char *what = "begin";

	for (b = list; b != NULL; b = b->next) {
		for (i = 0; i < b->nckpt; i++)
			HQ_VEC_PUSH(cks, ncks, capcks, &b->ckpt[i]);
	}
	for (i = 0; i < ncks; i++)
		cks[i]->order = i;
	if (ncks > 1)
		qsort(cks, ncks, sizeof *cks, journal_ckpt_cmp);
	last_all = journal_list_last(list);
	prev = j->head_seq;
	memcpy(link, j->head_link, JOURNAL_LINK);

	if ((mrc = mdb_txn_begin(j->env, NULL, 0, &txn)) != 0)
		goto fail;
	what = "write checkpoint";
	while (ci < ncks && cks[ci]->seq == prev) {
		if ((mrc = journal_put_ckpt(txn, j->ckpts, prev, link,
			 cks[ci++])) != 0)
			goto fail;
	}
	what = "append";
	if ((mrc = mdb_cursor_open(txn, j->events, &cur)) != 0)
		goto fail;
	for (b = list; b != NULL; b = b->next) {
		for (i = 0; i < b->nrec; i++) {
			seq = b->first_seq + i;
			HQ_ASSERT(seq == prev + 1);
			start = i > 0 ? b->end[i - 1] : 0;
			if (!open_seg) {
				if ((rc = journal_hash_start(j->md, j->sha,
					 link)) != 0)
					goto hashfail;
				seg_first = seq;
				open_seg = true;
			}
			if ((rc = journal_hash_rec(j->md, seq,
				 b->data.data + start, b->end[i] - start)) != 0)
				goto hashfail;
			k.mv_size = sizeof seq;
			k.mv_data = &seq;
			v.mv_size = b->end[i] - start;
			v.mv_data = b->data.data + start;
			what = "append";
			if ((mrc = mdb_cursor_put(cur, &k, &v, MDB_APPEND)) !=
			    0)
				goto fail;
			prev = seq;
			if (seq != last_all &&
			    (ci >= ncks || cks[ci]->seq != seq))
				continue;
			/* End of a chain entry: the commit, or a checkpoint. */
			if ((rc = journal_hash_end(j->md, link)) != 0)
				goto hashfail;
			open_seg = false;
			journal_put_le64(cval, seg_first);
			memcpy(cval + 8, link, JOURNAL_LINK);
			k.mv_size = sizeof seq;
			k.mv_data = &seq;
			v.mv_size = sizeof cval;
			v.mv_data = cval;
			what = "write chain";
			if ((mrc = mdb_put(txn, j->chain, &k, &v,
				 MDB_APPEND)) != 0)
				goto fail;
			what = "write checkpoint";
			while (ci < ncks && cks[ci]->seq == seq) {
				if ((mrc = journal_put_ckpt(txn, j->ckpts, seq,
					 link, cks[ci++])) != 0)
					goto fail;
			}
		}
	}
	/* put_checkpoint keeps seqs within [handed seq, last seq]. */
	HQ_ASSERT(ci == ncks && !open_seg);
	mdb_cursor_close(cur);
	cur = NULL;

	what = "write meta";
	for (b = list; b != NULL; b = b->next) {
		for (i = 0; i < b->nmeta; i++) {
			k.mv_size = strlen(b->meta[i].key);
			k.mv_data = b->meta[i].key;
			v.mv_size = b->meta[i].len;
			v.mv_data = b->meta[i].val;
			if ((mrc = mdb_put(txn, j->meta, &k, &v, 0)) != 0)
				goto fail;
		}
	}
	what = "commit";
	mrc = mdb_txn_commit(txn);
	txn = NULL;
	if (mrc != 0)
		goto fail;
	j->head_seq = prev;
	memcpy(j->head_link, link, JOURNAL_LINK);
	rc = 0;
	goto out;

hashfail:
	rc = hq_errf(eb, rc, "journal %s: SHA-256 failed", j->path);
	goto out;
fail:
	rc = journal_mdb_err(j, eb, mrc, what);
out:
	if (cur != NULL)
		mdb_cursor_close(cur);
	if (txn != NULL)
		mdb_txn_abort(txn);
	free(cks);
	return rc;
}

static void *
journal_writer_main(void *arg)
{
	struct hq_journal *j = arg;
	struct journal_batch *list, *b;
	struct hq_errbuf eb;
	uint64_t last, one = 1;
	ssize_t n;
	int rc;

	pthread_mutex_lock(&j->mu);
	for (;;) {
		while (j->qhead == NULL && !j->stop)
			pthread_cond_wait(&j->wake, &j->mu);
		if (j->qhead == NULL)
			break;
		list = j->qhead;
		j->qhead = j->qtail = NULL;
		j->busy = true;
		rc = j->werr;
		pthread_mutex_unlock(&j->mu);

		/* After a failure, later batches are dropped, never written. */
		eb.msg[0] = '\0';
		if (rc == 0)
			rc = journal_txn_commit(j, list, &eb);
		last = journal_list_last(list);
		for (b = list; b != NULL; b = b->next)
			journal_batch_reset(b);

		pthread_mutex_lock(&j->mu);
		if (rc != 0 && j->werr == 0) {
			j->werr = rc;
			j->werrmsg = eb;
		} else if (rc == 0 && last > j->done_seq)
			j->done_seq = last;
		j->busy = false;
		if (j->spare == NULL) {
			j->spare = list;
			list = list->next;
			j->spare->next = NULL;
		}
		pthread_cond_broadcast(&j->idle);
		pthread_mutex_unlock(&j->mu);

		while (list != NULL) {
			b = list->next;
			journal_batch_free(list);
			list = b;
		}
		/* Cannot fail short of EAGAIN on a saturated counter. */
		n = write(j->efd, &one, sizeof one);
		(void)n;
		pthread_mutex_lock(&j->mu);
	}
	pthread_mutex_unlock(&j->mu);
	return NULL;
}

/* Wait until the writer has nothing pending; its error becomes ours. */
static int
journal_drain(struct hq_journal *j, struct hq_errbuf *eb)
{
	int rc;

	if (!j->started)
		return 0;
	pthread_mutex_lock(&j->mu);
	while (j->qhead != NULL || j->busy)
		pthread_cond_wait(&j->idle, &j->mu);
	rc = j->werr;
	if (rc != 0 && j->err == 0) {
		j->err = rc;
		j->errmsg = j->werrmsg;
	}
	if (j->done_seq > j->durable_seq)
		j->durable_seq = j->done_seq;
	pthread_mutex_unlock(&j->mu);
	if (rc != 0)
		journal_copy_err(eb, &j->errmsg);
	return rc;
}

static int
journal_writable(struct hq_journal *j, struct hq_errbuf *eb)
{
	if (j->readonly)
		return hq_errf(eb, HQ_EINVAL, "journal %s is open read-only",
		    j->path);
	if (j->err != 0) {
		journal_copy_err(eb, &j->errmsg);
		return j->err;
	}
	return 0;
}

/* Check that the file holds every page LMDB will touch (no SIGBUS). */
static int
journal_check_size(struct hq_journal *j, struct hq_errbuf *eb)
{
	MDB_envinfo info;
	MDB_stat st;
	struct stat sb;
	uint64_t need;
	int fd, mrc;

	/* Meta first, size second: a writer grows the file before the meta. */
	if ((mrc = mdb_env_info(j->env, &info)) != 0 ||
	    (mrc = mdb_env_stat(j->env, &st)) != 0 ||
	    (mrc = mdb_env_get_fd(j->env, &fd)) != 0)
		return journal_mdb_err(j, eb, mrc, "read environment");
	if (fstat(fd, &sb) != 0)
		return hq_errf(eb, -errno, "journal %s: fstat: %s", j->path,
		    strerror(errno));
	need = ((uint64_t)info.me_last_pgno + 1) * st.ms_psize;
	if ((uint64_t)sb.st_size < need)
		return hq_errf(eb, HQ_ECORRUPT,
		    "journal %s is truncated: %jd bytes, its pages need "
		    "%" PRIu64,
		    j->path, (intmax_t)sb.st_size, need);
	return 0;
}

static int
journal_read_base(struct hq_journal *j, MDB_txn *txn, uint8_t *link,
    uint64_t *seq, struct hq_errbuf *eb)
{
	MDB_val k, v;
	int mrc;

	k.mv_size = strlen("chain_base");
	k.mv_data = (char *)"chain_base";
	mrc = mdb_get(txn, j->meta, &k, &v);
	if (mrc == MDB_NOTFOUND || (mrc == 0 && v.mv_size != JOURNAL_LINK))
		return hq_errf(eb, HQ_ECORRUPT,
		    "journal %s: meta chain_base is missing or damaged",
		    j->path);
	if (mrc != 0)
		return journal_mdb_err(j, eb, mrc, "read chain_base");
	memcpy(link, v.mv_data, JOURNAL_LINK);
	k.mv_size = strlen("chain_base_seq");
	k.mv_data = (char *)"chain_base_seq";
	mrc = mdb_get(txn, j->meta, &k, &v);
	if (mrc == MDB_NOTFOUND || (mrc == 0 && v.mv_size != 8))
		return hq_errf(eb, HQ_ECORRUPT,
		    "journal %s: meta chain_base_seq is missing or damaged",
		    j->path);
	if (mrc != 0)
		return journal_mdb_err(j, eb, mrc, "read chain_base_seq");
	*seq = journal_get_le64(v.mv_data);
	return 0;
}

static int
journal_put_base(struct hq_journal *j, MDB_txn *txn, const uint8_t *link,
    uint64_t seq)
{
	uint8_t le[8];
	MDB_val k, v;
	int mrc;

	k.mv_size = strlen("chain_base");
	k.mv_data = (char *)"chain_base";
	v.mv_size = JOURNAL_LINK;
	v.mv_data = (void *)link;
	if ((mrc = mdb_put(txn, j->meta, &k, &v, 0)) != 0)
		return mrc;
	journal_put_le64(le, seq);
	k.mv_size = strlen("chain_base_seq");
	k.mv_data = (char *)"chain_base_seq";
	v.mv_size = sizeof le;
	v.mv_data = le;
	return mdb_put(txn, j->meta, &k, &v, 0);
}

/* A brand-new file: create the databases and the reserved meta keys. */
static int
journal_create_dbs(struct hq_journal *j, MDB_txn *txn, struct hq_errbuf *eb)
{
	uint8_t zero[JOURNAL_LINK];
	char fmt[24];
	MDB_val k, v;
	int mrc;

	if ((mrc = mdb_dbi_open(txn, "meta", MDB_CREATE, &j->meta)) != 0 ||
	    (mrc = mdb_dbi_open(txn, "events", MDB_CREATE | MDB_INTEGERKEY,
		 &j->events)) != 0 ||
	    (mrc = mdb_dbi_open(txn, "chain", MDB_CREATE | MDB_INTEGERKEY,
		 &j->chain)) != 0 ||
	    (mrc = mdb_dbi_open(txn, "checkpoints", MDB_CREATE | MDB_INTEGERKEY,
		 &j->ckpts)) != 0)
		return journal_mdb_err(j, eb, mrc, "create databases");
	snprintf(fmt, sizeof fmt, "%d", HQ_JOURNAL_FORMAT);
	k.mv_size = strlen("format");
	k.mv_data = (char *)"format";
	v.mv_size = strlen(fmt);
	v.mv_data = fmt;
	memset(zero, 0, sizeof zero);
	if ((mrc = mdb_put(txn, j->meta, &k, &v, 0)) != 0 ||
	    (mrc = journal_put_base(j, txn, zero, 0)) != 0)
		return journal_mdb_err(j, eb, mrc, "initialise");
	return 0;
}

/* Refuse any format but ours, loudly. */
static int
journal_check_format(struct hq_journal *j, MDB_txn *txn, struct hq_errbuf *eb)
{
	char want[24], got[24];
	MDB_val k, v;
	size_t i;
	int mrc;

	snprintf(want, sizeof want, "%d", HQ_JOURNAL_FORMAT);
	k.mv_size = strlen("format");
	k.mv_data = (char *)"format";
	mrc = mdb_get(txn, j->meta, &k, &v);
	if (mrc == MDB_NOTFOUND)
		return hq_errf(eb, HQ_EVERSION,
		    "journal %s has no format record, this hq reads format %s",
		    j->path, want);
	if (mrc != 0)
		return journal_mdb_err(j, eb, mrc, "read format");
	if (v.mv_size == 0 || v.mv_size >= sizeof got)
		goto unreadable;
	memcpy(got, v.mv_data, v.mv_size);
	got[v.mv_size] = '\0';
	for (i = 0; i < v.mv_size; i++) {
		if (got[i] < '0' || got[i] > '9')
			goto unreadable;
	}
	if (strcmp(got, want) != 0)
		return hq_errf(eb, HQ_EVERSION,
		    "journal %s has format %s, this hq reads format %s",
		    j->path, got, want);
	return 0;
unreadable:
	return hq_errf(eb, HQ_EVERSION,
	    "journal %s has an unreadable format record (%zu bytes), this hq "
	    "reads format %s",
	    j->path, v.mv_size, want);
}

static int
journal_open_dbs(struct hq_journal *j, MDB_txn *txn, struct hq_errbuf *eb)
{
	static const char *names[] = { "events", "chain", "checkpoints" };
	MDB_dbi *dbis[] = { &j->events, &j->chain, &j->ckpts };
	size_t i;
	int mrc;

	for (i = 0; i < HQ_ARRAY_LEN(names); i++) {
		mrc = mdb_dbi_open(txn, names[i], MDB_INTEGERKEY, dbis[i]);
		if (mrc == MDB_NOTFOUND)
			return hq_errf(eb, HQ_ECORRUPT,
			    "journal %s lacks its '%s' database", j->path,
			    names[i]);
		if (mrc != 0)
			return journal_mdb_err(j, eb, mrc, names[i]);
	}
	return 0;
}

/* Last key of an integer-keyed database into *seq (left alone if empty). */
static int
journal_last_key(struct hq_journal *j, MDB_txn *txn, MDB_dbi dbi, uint64_t *seq,
    MDB_val *val, struct hq_errbuf *eb)
{
	MDB_cursor *c = NULL;
	MDB_val k, v;
	int mrc, rc = 0;

	if ((mrc = mdb_cursor_open(txn, dbi, &c)) != 0)
		return journal_mdb_err(j, eb, mrc, "cursor");
	mrc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	if (mrc == 0) {
		if (!journal_key(&k, seq))
			rc = hq_errf(eb, HQ_ECORRUPT,
			    "journal %s: a key of %zu bytes in an integer "
			    "database",
			    j->path, k.mv_size);
		else if (val != NULL)
			*val = v;
	} else if (mrc != MDB_NOTFOUND)
		rc = journal_mdb_err(j, eb, mrc, "read last key");
	mdb_cursor_close(c);
	return rc;
}

/* Format check or creation, database handles, chain head, last seq. */
static int
journal_init(struct hq_journal *j, struct hq_errbuf *eb)
{
	MDB_txn *txn = NULL;
	MDB_dbi main_dbi;
	MDB_stat ms;
	MDB_val v;
	uint64_t base_seq = 0, seq = 0;
	int mrc, rc;

	mrc = mdb_txn_begin(j->env, NULL, j->readonly ? MDB_RDONLY : 0, &txn);
	if (mrc != 0) {
		rc = journal_mdb_err(j, eb, mrc, "begin");
		goto out;
	}
	mrc = mdb_dbi_open(txn, "meta", 0, &j->meta);
	if (mrc == MDB_NOTFOUND) {
		if ((mrc = mdb_dbi_open(txn, NULL, 0, &main_dbi)) != 0 ||
		    (mrc = mdb_stat(txn, main_dbi, &ms)) != 0) {
			rc = journal_mdb_err(j, eb, mrc, "stat");
			goto out;
		}
		if (ms.ms_entries > 0) {
			rc = hq_errf(eb, HQ_EVERSION,
			    "journal %s is an LMDB file without an hq format "
			    "record (not an hq journal?), this hq reads format "
			    "%d",
			    j->path, HQ_JOURNAL_FORMAT);
			goto out;
		}
		if (j->readonly) {
			rc = hq_errf(eb, HQ_ENOTFOUND,
			    "journal %s is empty (never initialised)", j->path);
			goto out;
		}
		if ((rc = journal_create_dbs(j, txn, eb)) != 0)
			goto out;
	} else if (mrc != 0) {
		rc = journal_mdb_err(j, eb, mrc, "open meta");
		goto out;
	} else if ((rc = journal_check_format(j, txn, eb)) != 0 ||
	    (rc = journal_open_dbs(j, txn, eb)) != 0)
		goto out;

	if ((rc = journal_read_base(j, txn, j->head_link, &base_seq, eb)) != 0)
		goto out;
	j->head_seq = base_seq;
	if ((rc = journal_last_key(j, txn, j->chain, &j->head_seq, &v, eb)) !=
	    0)
		goto out;
	if (j->head_seq != base_seq) {
		if (v.mv_size != JOURNAL_CHAIN_VAL) {
			rc = hq_errf(eb, HQ_ECORRUPT,
			    "journal %s: chain entry %" PRIu64 " is damaged",
			    j->path, j->head_seq);
			goto out;
		}
		memcpy(j->head_link, (uint8_t *)v.mv_data + 8, JOURNAL_LINK);
	}
	if ((rc = journal_last_key(j, txn, j->events, &seq, NULL, eb)) != 0)
		goto out;
	/*
	 * Records and chain disagree only in a damaged file. A reader may
	 * still look (verify names the place); a writer would extend it.
	 */
	if (!j->readonly && !j->recover &&
	    (seq != 0 ? seq != j->head_seq : j->head_seq != base_seq)) {
		rc = hq_errf(eb, HQ_ECORRUPT,
		    "journal %s is damaged: its last record is %" PRIu64
		    " but its chain ends at %" PRIu64 " (run verify)",
		    j->path, seq, j->head_seq);
		goto out;
	}
	j->last_seq = HQ_MAX(j->head_seq, seq);

	/* Committing (even read-only) keeps the database handles. */
	mrc = mdb_txn_commit(txn);
	txn = NULL;
	if (mrc != 0) {
		rc = journal_mdb_err(j, eb, mrc, "commit");
		goto out;
	}
	rc = 0;
out:
	if (txn != NULL)
		mdb_txn_abort(txn);
	return rc;
}

static int
journal_open_err(struct hq_journal *j, struct hq_errbuf *eb, int mrc)
{
	switch (mrc) {
	case MDB_INVALID:
		return hq_errf(eb, HQ_ECORRUPT,
		    "journal %s is damaged or not an LMDB file (%s)", j->path,
		    mdb_strerror(mrc));
	case MDB_VERSION_MISMATCH:
		return hq_errf(eb, HQ_EVERSION,
		    "journal %s was written by an incompatible LMDB (%s)",
		    j->path, mdb_strerror(mrc));
	}
	return journal_mdb_err(j, eb, mrc, "open");
}

int
hq_journal_open(const char *path, const struct hq_journal_opts *o,
    struct hq_journal **jp, struct hq_errbuf *eb)
{
	static const struct hq_journal_opts defaults = { 0 };
	struct hq_journal *j = NULL;
	unsigned int flags;
	size_t map_size;
	int mrc, rc, fd, dead;

	if (o == NULL)
		o = &defaults;
	if (path == NULL || *path == '\0')
		return hq_errf(eb, HQ_EINVAL, "journal path is empty");

	j = hq_xcalloc(1, sizeof *j);
	j->path = hq_xstrdup(path);
	j->readonly = o->readonly;
	j->recover = o->recover;
	j->efd = -1;
	pthread_mutex_init(&j->mu, NULL);
	pthread_cond_init(&j->wake, NULL);
	pthread_cond_init(&j->idle, NULL);

	if ((j->sha = EVP_MD_fetch(NULL, "SHA2-256", NULL)) == NULL) {
		rc = hq_errf(eb, HQ_EJOURNAL,
		    "journal %s: no SHA-256 in "
		    "OpenSSL",
		    path);
		goto out;
	}
	if ((mrc = mdb_env_create(&j->env)) != 0) {
		j->env = NULL;
		rc = journal_mdb_err(j, eb, mrc, "create environment");
		goto out;
	}
	/* A reader without a size maps what the file's meta page says. */
	map_size = o->map_size;
	if (map_size == 0 && !o->readonly)
		map_size = JOURNAL_DEFAULT_MAP;
	if ((mrc = mdb_env_set_maxdbs(j->env, 8)) != 0 ||
	    (map_size != 0 &&
		(mrc = mdb_env_set_mapsize(j->env, map_size)) != 0)) {
		rc = journal_mdb_err(j, eb, mrc, "configure");
		goto out;
	}
	flags = MDB_NOSUBDIR | MDB_NOTLS | (o->readonly ? MDB_RDONLY : 0);
	if ((mrc = mdb_env_open(j->env, path, flags, 0600)) != 0) {
		rc = journal_open_err(j, eb, mrc);
		goto out;
	}
	if ((rc = journal_check_size(j, eb)) != 0)
		goto out;
	if (!o->readonly) {
		/* Our chain head lives in memory: one writer per file. */
		if ((mrc = mdb_env_get_fd(j->env, &fd)) != 0) {
			rc = journal_mdb_err(j, eb, mrc, "get fd");
			goto out;
		}
		if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
			rc = errno == EWOULDBLOCK
			    ? hq_errf(eb, HQ_EBUSY,
				  "journal %s is in use by another writer",
				  path)
			    : hq_errf(eb, -errno, "journal %s: flock: %s", path,
				  strerror(errno));
			goto out;
		}
		/* Slots of readers that died would pin old pages forever. */
		(void)mdb_reader_check(j->env, &dead);
	}
	if ((rc = journal_init(j, eb)) != 0)
		goto out;
	j->handed_seq = j->durable_seq = j->done_seq = j->last_seq;
	if (!o->readonly) {
		if ((j->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
			rc = hq_errf(eb, -errno, "journal %s: eventfd: %s",
			    path, strerror(errno));
			goto out;
		}
		if ((j->md = EVP_MD_CTX_new()) == NULL) {
			rc = hq_errf(eb, -ENOMEM, "journal %s: out of memory",
			    path);
			goto out;
		}
		j->cur = journal_batch_new();
		j->cur->first_seq = j->last_seq + 1;
	}
	*jp = j;
	j = NULL;
	rc = 0;
out:
	hq_journal_close(j);
	return rc;
}

void
hq_journal_close(struct hq_journal *j)
{
	struct journal_batch *b;

	if (j == NULL)
		return;
	if (j->started) {
		pthread_mutex_lock(&j->mu);
		j->stop = true;
		pthread_cond_signal(&j->wake);
		pthread_mutex_unlock(&j->mu);
		pthread_join(j->thread, NULL);
	}
	while ((b = j->qhead) != NULL) {
		j->qhead = b->next;
		journal_batch_free(b);
	}
	journal_batch_free(j->cur);
	journal_batch_free(j->spare);
	if (j->env != NULL)
		mdb_env_close(j->env);
	if (j->efd >= 0)
		close(j->efd);
	EVP_MD_CTX_free(j->md);
	EVP_MD_free(j->sha);
	pthread_cond_destroy(&j->idle);
	pthread_cond_destroy(&j->wake);
	pthread_mutex_destroy(&j->mu);
	free(j->path);
	free(j);
}

int
hq_journal_append(struct hq_journal *j, const void *rec, size_t len,
    uint64_t *seqp)
{
	struct journal_batch *b = j->cur;
	int rc;

	if ((rc = journal_writable(j, NULL)) != 0)
		return rc;
	if (len > UINT32_MAX)
		return HQ_ETOOBIG;
	if (len > 0 && rec == NULL)
		return HQ_EINVAL;
	hq_buf_append(&b->data, rec, len);
	HQ_VEC_PUSH(b->end, b->nrec, b->caprec, b->data.len);
	j->last_seq++;
	HQ_ASSERT(b->first_seq + b->nrec - 1 == j->last_seq);
	if (seqp != NULL)
		*seqp = j->last_seq;
	return 0;
}

uint64_t
hq_journal_last_seq(const struct hq_journal *j)
{
	return j->last_seq;
}

uint64_t
hq_journal_durable_seq(const struct hq_journal *j)
{
	return j->durable_seq;
}

static bool
journal_meta_key_ok(const char *key)
{
	size_t n;

	if (key == NULL)
		return false;
	n = strlen(key);
	return n > 0 && n <= JOURNAL_MAX_KEY;
}

int
hq_journal_put_meta(struct hq_journal *j, const char *key, const void *val,
    size_t len)
{
	struct journal_meta m;
	size_t i;
	int rc;

	if ((rc = journal_writable(j, NULL)) != 0)
		return rc;
	if (!journal_meta_key_ok(key) || (len > 0 && val == NULL))
		return HQ_EINVAL;
	for (i = 0; i < HQ_ARRAY_LEN(journal_reserved); i++) {
		if (strcmp(key, journal_reserved[i]) == 0)
			return HQ_EINVAL;
	}
	m.key = hq_xstrdup(key);
	m.val = hq_xmemdup(val, len);
	m.len = len;
	HQ_VEC_PUSH(j->cur->meta, j->cur->nmeta, j->cur->capmeta, m);
	return 0;
}

int
hq_journal_put_checkpoint(struct hq_journal *j, uint64_t seq, const void *snap,
    size_t len)
{
	struct journal_ckpt c;
	int rc;

	if ((rc = journal_writable(j, NULL)) != 0)
		return rc;
	/* Older seqs may sit inside a stored commit, where no link exists. */
	if (seq < j->handed_seq || seq > j->last_seq ||
	    (len > 0 && snap == NULL))
		return HQ_EINVAL;
	c.seq = seq;
	c.order = 0;
	c.snap = hq_xmemdup(snap, len);
	c.len = len;
	HQ_VEC_PUSH(j->cur->ckpt, j->cur->nckpt, j->cur->capckpt, c);
	return 0;
}

int
hq_journal_commit(struct hq_journal *j, struct hq_errbuf *eb)
{
	int rc;

	if ((rc = journal_writable(j, eb)) != 0)
		return rc;
	if ((rc = journal_drain(j, eb)) != 0)
		return rc;
	if (journal_batch_empty(j->cur))
		return 0;
	if ((rc = journal_txn_commit(j, j->cur, &j->errmsg)) != 0) {
		j->err = rc;
		journal_copy_err(eb, &j->errmsg);
		return rc;
	}
	j->handed_seq = j->durable_seq = j->last_seq;
	pthread_mutex_lock(&j->mu);
	if (j->last_seq > j->done_seq)
		j->done_seq = j->last_seq;
	pthread_mutex_unlock(&j->mu);
	journal_batch_reset(j->cur);
	j->cur->first_seq = j->last_seq + 1;
	return 0;
}

int
hq_journal_flush_async(struct hq_journal *j)
{
	struct journal_batch *b;
	sigset_t all, old;
	int rc;

	if ((rc = journal_writable(j, NULL)) != 0)
		return rc;
	if (journal_batch_empty(j->cur))
		return 0;
	if (!j->started) {
		/* Signals are the loop's business, never the writer's. */
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		rc = pthread_create(&j->thread, NULL, journal_writer_main, j);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (rc != 0)
			return -rc;
		j->started = true;
	}
	pthread_mutex_lock(&j->mu);
	if ((rc = j->werr) != 0) {
		j->err = rc;
		j->errmsg = j->werrmsg;
		pthread_mutex_unlock(&j->mu);
		return rc;
	}
	b = j->cur;
	if (j->qtail != NULL)
		j->qtail->next = b;
	else
		j->qhead = b;
	j->qtail = b;
	j->cur = j->spare;
	j->spare = NULL;
	pthread_cond_signal(&j->wake);
	pthread_mutex_unlock(&j->mu);

	if (j->cur == NULL)
		j->cur = journal_batch_new();
	j->cur->first_seq = j->last_seq + 1;
	j->handed_seq = j->last_seq;
	return 0;
}

int
hq_journal_event_fd(struct hq_journal *j)
{
	if (j->readonly)
		return HQ_EINVAL;
	return j->efd;
}

int
hq_journal_poll(struct hq_journal *j, uint64_t *durable, struct hq_errbuf *eb)
{
	uint64_t v, done;
	ssize_t n;

	if (j->readonly)
		return hq_errf(eb, HQ_EINVAL, "journal %s is open read-only",
		    j->path);
	/* One read resets the counter; EAGAIN just means nothing new. */
	n = read(j->efd, &v, sizeof v);
	(void)n;
	pthread_mutex_lock(&j->mu);
	done = j->done_seq;
	if (j->werr != 0 && j->err == 0) {
		j->err = j->werr;
		j->errmsg = j->werrmsg;
	}
	pthread_mutex_unlock(&j->mu);
	if (done > j->durable_seq)
		j->durable_seq = done;
	/* Set also on failure: what committed before it is durable. */
	if (durable != NULL)
		*durable = j->durable_seq;
	if (j->err != 0) {
		journal_copy_err(eb, &j->errmsg);
		return j->err;
	}
	return 0;
}

int
hq_journal_get_meta(struct hq_journal *j, const char *key, void **val,
    size_t *len)
{
	MDB_txn *txn = NULL;
	MDB_val k, v;
	uint8_t *p;
	int mrc;

	if (!journal_meta_key_ok(key))
		return HQ_EINVAL;
	if ((mrc = mdb_txn_begin(j->env, NULL, MDB_RDONLY, &txn)) != 0)
		return journal_rc(mrc);
	k.mv_size = strlen(key);
	k.mv_data = (char *)key;
	if ((mrc = mdb_get(txn, j->meta, &k, &v)) == 0) {
		p = hq_xmalloc(v.mv_size + 1);
		if (v.mv_size > 0)
			memcpy(p, v.mv_data, v.mv_size);
		p[v.mv_size] = '\0';
		*val = p;
		*len = v.mv_size;
	}
	mdb_txn_abort(txn);
	if (mrc == MDB_NOTFOUND)
		return HQ_ENOTFOUND;
	return journal_rc(mrc);
}

int
hq_journal_latest_checkpoint(struct hq_journal *j, uint64_t *seq, void **snap,
    size_t *len)
{
	MDB_txn *txn = NULL;
	MDB_cursor *c = NULL;
	MDB_val k, v;
	const uint8_t *body;
	uint64_t s;
	size_t n;
	int mrc, rc;

	if ((mrc = mdb_txn_begin(j->env, NULL, MDB_RDONLY, &txn)) != 0 ||
	    (mrc = mdb_cursor_open(txn, j->ckpts, &c)) != 0) {
		rc = journal_rc(mrc);
		goto out;
	}
	mrc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	if (mrc == MDB_NOTFOUND) {
		rc = HQ_ENOTFOUND;
		goto out;
	}
	if (mrc != 0) {
		rc = journal_rc(mrc);
		goto out;
	}
	if (!journal_key(&k, &s) ||
	    (rc = journal_ckpt_body(&v, &body, &n)) != 0) {
		rc = HQ_ECORRUPT;
		goto out;
	}
	if (snap != NULL)
		*snap = hq_xmemdup(body, n);
	if (len != NULL)
		*len = n;
	*seq = s;
	rc = 0;
out:
	if (c != NULL)
		mdb_cursor_close(c);
	if (txn != NULL)
		mdb_txn_abort(txn);
	return rc;
}

int
hq_journal_foreach_checkpoint(struct hq_journal *j, hq_journal_ckpt_fn *fn,
    void *arg)
{
	MDB_txn *txn = NULL;
	MDB_cursor *c = NULL;
	MDB_val k, v;
	uint64_t s;
	int mrc, rc = 0;

	if ((mrc = mdb_txn_begin(j->env, NULL, MDB_RDONLY, &txn)) != 0 ||
	    (mrc = mdb_cursor_open(txn, j->ckpts, &c)) != 0) {
		rc = journal_rc(mrc);
		goto out;
	}
	for (mrc = mdb_cursor_get(c, &k, &v, MDB_FIRST); mrc == 0;
	     mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		const uint8_t *body;
		size_t n;

		if (!journal_key(&k, &s) || journal_ckpt_body(&v, &body, &n)) {
			rc = HQ_ECORRUPT;
			goto out;
		}
		if ((rc = fn(s, body, n, arg)) != 0)
			goto out;
	}
	if (mrc != MDB_NOTFOUND)
		rc = journal_rc(mrc);
out:
	if (c != NULL)
		mdb_cursor_close(c);
	if (txn != NULL)
		mdb_txn_abort(txn);
	return rc;
}

int
hq_journal_foreach(struct hq_journal *j, uint64_t from, uint64_t to,
    hq_journal_record_fn *fn, void *arg)
{
	MDB_txn *txn = NULL;
	MDB_cursor *c = NULL;
	MDB_val k, v;
	uint64_t s = from;
	int mrc, rc = 0;

	if (from > to)
		return 0;
	if ((mrc = mdb_txn_begin(j->env, NULL, MDB_RDONLY, &txn)) != 0 ||
	    (mrc = mdb_cursor_open(txn, j->events, &c)) != 0) {
		rc = journal_rc(mrc);
		goto out;
	}
	k.mv_size = sizeof s;
	k.mv_data = &s;
	for (mrc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); mrc == 0;
	     mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (!journal_key(&k, &s)) {
			rc = HQ_ECORRUPT;
			goto out;
		}
		if (s > to)
			goto out;
		if ((rc = fn(s, v.mv_data, v.mv_size, arg)) != 0)
			goto out;
	}
	if (mrc != MDB_NOTFOUND)
		rc = journal_rc(mrc);
out:
	if (c != NULL)
		mdb_cursor_close(c);
	if (txn != NULL)
		mdb_txn_abort(txn);
	return rc;
}

/* Checkpoints up to 'upto' must sit on 'link' exactly at 'upto'. */
static int
journal_verify_ckpts(struct hq_journal *j, MDB_cursor *ck, int *kmrc,
    MDB_val *kk, MDB_val *kv, uint64_t upto, const uint8_t *link,
    uint64_t commit_first, uint64_t *bad_seq, struct hq_errbuf *eb)
{
	uint64_t s;

	while (*kmrc == 0) {
		if (!journal_key(kk, &s))
			return journal_corrupt(j, eb, bad_seq, commit_first,
			    "a checkpoint key has %zu bytes", kk->mv_size);
		if (s > upto)
			return 0;
		if (s != upto)
			return journal_corrupt(j, eb, bad_seq, commit_first,
			    "checkpoint at seq %" PRIu64
			    " is not at a commit boundary (next boundary "
			    "%" PRIu64 ")",
			    s, upto);
		if (kv->mv_size < JOURNAL_LINK ||
		    memcmp(kv->mv_data, link, JOURNAL_LINK) != 0)
			return journal_corrupt(j, eb, bad_seq, commit_first,
			    "checkpoint at seq %" PRIu64
			    " does not match the chain link there",
			    s);
		{
			const uint8_t *body;
			size_t n;

			if (journal_ckpt_body(kv, &body, &n) != 0)
				return journal_corrupt(j, eb, bad_seq, s,
				    "checkpoint at seq %" PRIu64
				    " is damaged (its digest does not match)",
				    s);
		}
		*kmrc = mdb_cursor_get(ck, kk, kv, MDB_NEXT);
	}
	if (*kmrc != MDB_NOTFOUND)
		return journal_mdb_err(j, eb, *kmrc, "read checkpoints");
	return 0;
}

static int journal_verify(struct hq_journal *j, uint64_t from,
    uint64_t *bad_seq, struct hq_errbuf *eb);

int
hq_journal_verify_chain(struct hq_journal *j, uint64_t *bad_seq,
    struct hq_errbuf *eb)
{
	return journal_verify(j, 0, bad_seq, eb);
}

int
hq_journal_verify_tail(struct hq_journal *j, uint64_t from, uint64_t *bad_seq,
    struct hq_errbuf *eb)
{
	return journal_verify(j, from, bad_seq, eb);
}

/* Verify the chain from the base, or from the checkpoint at 'from'. */
static int
journal_verify(struct hq_journal *j, uint64_t from, uint64_t *bad_seq,
    struct hq_errbuf *eb)
{
	MDB_txn *txn = NULL;
	MDB_cursor *cc = NULL, *ce = NULL, *ck = NULL;
	EVP_MD_CTX *md = NULL;
	MDB_val k, v, ek, ev, kk, kv;
	uint8_t link[JOURNAL_LINK], got[JOURNAL_LINK];
	uint64_t base_seq, prev, first, last, seq = 0, es = 0;
	int mrc, emrc, kmrc, rc;

	if ((mrc = mdb_txn_begin(j->env, NULL, MDB_RDONLY, &txn)) != 0 ||
	    (mrc = mdb_cursor_open(txn, j->chain, &cc)) != 0 ||
	    (mrc = mdb_cursor_open(txn, j->events, &ce)) != 0 ||
	    (mrc = mdb_cursor_open(txn, j->ckpts, &ck)) != 0) {
		rc = journal_mdb_err(j, eb, mrc, "begin");
		goto out;
	}
	if ((md = EVP_MD_CTX_new()) == NULL) {
		rc = hq_errf(eb, -ENOMEM, "journal %s: out of memory", j->path);
		goto out;
	}
	if ((rc = journal_read_base(j, txn, link, &base_seq, eb)) != 0)
		goto out;
	prev = base_seq;
	if (from > base_seq) {
		/* Start at a checkpoint: its stored link is the chain's state
		 * after 'from' (commits are cut at checkpoints). */
		uint64_t key = from, next = from + 1;

		kk.mv_size = sizeof key;
		kk.mv_data = &key;
		kmrc = mdb_cursor_get(ck, &kk, &kv, MDB_SET_KEY);
		if (kmrc != 0 || kv.mv_size < JOURNAL_LINK) {
			rc = journal_corrupt(j, eb, bad_seq, from,
			    "no checkpoint at seq %" PRIu64, from);
			goto out;
		}
		memcpy(link, kv.mv_data, JOURNAL_LINK);
		prev = from;
		kmrc = mdb_cursor_get(ck, &kk, &kv, MDB_NEXT);
		ek.mv_size = sizeof next;
		ek.mv_data = &next;
		emrc = mdb_cursor_get(ce, &ek, &ev, MDB_SET_RANGE);
		k.mv_size = sizeof next;
		k.mv_data = &next;
		mrc = mdb_cursor_get(cc, &k, &v, MDB_SET_RANGE);
		goto chain;
	}
	kmrc = mdb_cursor_get(ck, &kk, &kv, MDB_FIRST);
	if (kmrc == 0 && journal_key(&kk, &seq) && seq < base_seq) {
		rc = journal_corrupt(j, eb, bad_seq, seq,
		    "checkpoint at seq %" PRIu64
		    " predates the chain base %" PRIu64,
		    seq, base_seq);
		goto out;
	}
	if ((rc = journal_verify_ckpts(j, ck, &kmrc, &kk, &kv, base_seq, link,
		 base_seq, bad_seq, eb)) != 0)
		goto out;
	emrc = mdb_cursor_get(ce, &ek, &ev, MDB_FIRST);
	if (emrc == 0 && (!journal_key(&ek, &es) || es <= base_seq)) {
		rc = journal_corrupt(j, eb, bad_seq, es,
		    "record %" PRIu64 " precedes the chain base %" PRIu64, es,
		    base_seq);
		goto out;
	}

	mrc = mdb_cursor_get(cc, &k, &v, MDB_FIRST);
chain:
	for (; mrc == 0; mrc = mdb_cursor_get(cc, &k, &v, MDB_NEXT)) {
		if (!journal_key(&k, &last) || v.mv_size != JOURNAL_CHAIN_VAL) {
			rc = journal_corrupt(j, eb, bad_seq, prev + 1,
			    "chain entry after seq %" PRIu64 " is damaged",
			    prev);
			goto out;
		}
		first = journal_get_le64(v.mv_data);
		if (first != prev + 1 || last < first) {
			rc = journal_corrupt(j, eb, bad_seq, prev + 1,
			    "chain gap: commit %" PRIu64 "..%" PRIu64
			    " follows seq %" PRIu64,
			    first, last, prev);
			goto out;
		}
		if ((rc = journal_hash_start(md, j->sha, link)) != 0)
			goto hashfail;
		for (seq = first; seq <= last; seq++) {
			if (emrc != 0 && emrc != MDB_NOTFOUND) {
				rc = journal_mdb_err(j, eb, emrc,
				    "read records");
				goto out;
			}
			if (emrc == MDB_NOTFOUND || !journal_key(&ek, &es) ||
			    es != seq) {
				rc = journal_corrupt(j, eb, bad_seq, first,
				    "record %" PRIu64 " of commit %" PRIu64
				    "..%" PRIu64 " is missing",
				    seq, first, last);
				goto out;
			}
			if ((rc = journal_hash_rec(md, seq, ev.mv_data,
				 ev.mv_size)) != 0)
				goto hashfail;
			emrc = mdb_cursor_get(ce, &ek, &ev, MDB_NEXT);
		}
		if ((rc = journal_hash_end(md, got)) != 0)
			goto hashfail;
		if (memcmp(got, (uint8_t *)v.mv_data + 8, JOURNAL_LINK) != 0) {
			rc = journal_corrupt(j, eb, bad_seq, first,
			    "commit %" PRIu64 "..%" PRIu64
			    " does not match its chain link (records altered)",
			    first, last);
			goto out;
		}
		memcpy(link, got, JOURNAL_LINK);
		prev = last;
		if ((rc = journal_verify_ckpts(j, ck, &kmrc, &kk, &kv, last,
			 link, first, bad_seq, eb)) != 0)
			goto out;
	}
	if (mrc != MDB_NOTFOUND) {
		rc = journal_mdb_err(j, eb, mrc, "read chain");
		goto out;
	}
	if (emrc == 0) {
		journal_key(&ek, &es);
		rc = journal_corrupt(j, eb, bad_seq, es,
		    "record %" PRIu64 " lies past the chain end %" PRIu64, es,
		    prev);
		goto out;
	}
	if (emrc != MDB_NOTFOUND) {
		rc = journal_mdb_err(j, eb, emrc, "read records");
		goto out;
	}
	if (kmrc == 0) {
		journal_key(&kk, &seq);
		rc = journal_corrupt(j, eb, bad_seq, seq,
		    "checkpoint at seq %" PRIu64
		    " lies past the chain end %" PRIu64,
		    seq, prev);
		goto out;
	}
	rc = 0;
	goto out;

hashfail:
	rc = hq_errf(eb, rc, "journal %s: SHA-256 failed", j->path);
out:
	EVP_MD_CTX_free(md);
	if (ck != NULL)
		mdb_cursor_close(ck);
	if (ce != NULL)
		mdb_cursor_close(ce);
	if (cc != NULL)
		mdb_cursor_close(cc);
	if (txn != NULL)
		mdb_txn_abort(txn);
	return rc;
}

int
hq_journal_stat(struct hq_journal *j, struct hq_journal_stat *st)
{
	struct hq_journal_stat s;
	MDB_txn *txn = NULL;
	MDB_cursor *c = NULL;
	MDB_stat ms;
	MDB_val k, v;
	struct stat sb;
	int mrc, rc, fd;

	memset(&s, 0, sizeof s);
	if ((mrc = mdb_txn_begin(j->env, NULL, MDB_RDONLY, &txn)) != 0 ||
	    (mrc = mdb_cursor_open(txn, j->events, &c)) != 0) {
		rc = journal_rc(mrc);
		goto out;
	}
	for (mrc = mdb_cursor_get(c, &k, &v, MDB_FIRST); mrc == 0;
	     mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (!journal_key(&k, &s.last_seq)) {
			rc = HQ_ECORRUPT;
			goto out;
		}
		if (s.n_records++ == 0)
			s.first_seq = s.last_seq;
		s.record_bytes += v.mv_size;
	}
	if (mrc != MDB_NOTFOUND) {
		rc = journal_rc(mrc);
		goto out;
	}
	if ((rc = journal_last_key(j, txn, j->ckpts, &s.last_checkpoint_seq,
		 NULL, NULL)) != 0)
		goto out;
	if ((mrc = mdb_stat(txn, j->ckpts, &ms)) != 0) {
		rc = journal_rc(mrc);
		goto out;
	}
	s.n_checkpoints = ms.ms_entries;
	if ((mrc = mdb_stat(txn, j->chain, &ms)) != 0) {
		rc = journal_rc(mrc);
		goto out;
	}
	s.n_commits = ms.ms_entries;
	if ((mrc = mdb_env_get_fd(j->env, &fd)) != 0) {
		rc = journal_rc(mrc);
		goto out;
	}
	if (fstat(fd, &sb) != 0) {
		rc = -errno;
		goto out;
	}
	s.file_bytes = (uint64_t)sb.st_size;
	*st = s;
	rc = 0;
out:
	if (c != NULL)
		mdb_cursor_close(c);
	if (txn != NULL)
		mdb_txn_abort(txn);
	return rc;
}

/*
 * Position on the greatest key <= *seq of an integer-keyed database; *seq
 * gets it. MDB_NOTFOUND when every key is greater.
 */
static int
journal_seek_le(MDB_cursor *c, uint64_t *seq)
{
	MDB_val k, v;
	uint64_t want = *seq, s;
	int mrc;

	k.mv_size = sizeof want;
	k.mv_data = &want;
	mrc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	if (mrc == 0 && journal_key(&k, &s) && s == want) {
		*seq = s;
		return 0;
	}
	if (mrc == 0)
		mrc = mdb_cursor_get(c, &k, &v, MDB_PREV);
	else if (mrc == MDB_NOTFOUND)
		mrc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	if (mrc != 0)
		return mrc;
	if (!journal_key(&k, seq))
		return MDB_CORRUPTED;
	return 0;
}

/* Delete every key < 'below' from an integer-keyed database. */
static int
journal_delete_below(MDB_txn *txn, MDB_dbi dbi, uint64_t below)
{
	MDB_cursor *c = NULL;
	MDB_val k, v;
	uint64_t s;
	int mrc;

	if ((mrc = mdb_cursor_open(txn, dbi, &c)) != 0)
		return mrc;
	while ((mrc = mdb_cursor_get(c, &k, &v, MDB_FIRST)) == 0) {
		if (!journal_key(&k, &s)) {
			mrc = MDB_CORRUPTED;
			break;
		}
		if (s >= below)
			break;
		if ((mrc = mdb_cursor_del(c, 0)) != 0)
			break;
	}
	mdb_cursor_close(c);
	return mrc == MDB_NOTFOUND ? 0 : mrc;
}

int
hq_journal_prune(struct hq_journal *j, uint64_t before, struct hq_errbuf *eb)
{
	MDB_txn *txn = NULL;
	MDB_cursor *c = NULL;
	MDB_val k, v;
	uint8_t link[JOURNAL_LINK];
	uint64_t base_seq, ckpt, cut;
	int mrc, rc;
	const char *what = "begin";

	if ((rc = journal_writable(j, eb)) != 0 ||
	    (rc = journal_drain(j, eb)) != 0)
		return rc;
	if (before == 0)
		return 0;
	if ((mrc = mdb_txn_begin(j->env, NULL, 0, &txn)) != 0)
		goto fail;
	if ((rc = journal_read_base(j, txn, link, &base_seq, eb)) != 0)
		goto out;

	what = "find checkpoint";
	if ((mrc = mdb_cursor_open(txn, j->ckpts, &c)) != 0)
		goto fail;
	ckpt = before;
	mrc = journal_seek_le(c, &ckpt);
	mdb_cursor_close(c);
	c = NULL;
	if (mrc == MDB_NOTFOUND) {
		rc = 0; /* without a checkpoint, all history is needed */
		goto out;
	}
	if (mrc != 0)
		goto fail;

	/* Cut on a link: the checkpoint, or the last boundary below it. */
	cut = ckpt;
	if (ckpt >= before) {
		what = "find commit";
		if ((mrc = mdb_cursor_open(txn, j->chain, &c)) != 0)
			goto fail;
		cut = before - 1;
		mrc = journal_seek_le(c, &cut);
		mdb_cursor_close(c);
		c = NULL;
		if (mrc == MDB_NOTFOUND)
			cut = base_seq;
		else if (mrc != 0)
			goto fail;
	}
	if (cut > base_seq) {
		k.mv_size = sizeof cut;
		k.mv_data = &cut;
		mrc = mdb_get(txn, j->chain, &k, &v);
		if (mrc == MDB_NOTFOUND ||
		    (mrc == 0 && v.mv_size != JOURNAL_CHAIN_VAL)) {
			rc = hq_errf(eb, HQ_ECORRUPT,
			    "journal %s: no chain link at checkpoint %" PRIu64,
			    j->path, cut);
			goto out;
		}
		if (mrc != 0)
			goto fail;
		memcpy(link, (uint8_t *)v.mv_data + 8, JOURNAL_LINK);
	} else
		cut = base_seq;

	what = "delete";
	if ((mrc = journal_delete_below(txn, j->events, cut + 1)) != 0 ||
	    (mrc = journal_delete_below(txn, j->chain, cut + 1)) != 0 ||
	    (mrc = journal_delete_below(txn, j->ckpts, ckpt)) != 0)
		goto fail;
	what = "write chain base";
	if ((mrc = journal_put_base(j, txn, link, cut)) != 0)
		goto fail;
	what = "commit";
	mrc = mdb_txn_commit(txn);
	txn = NULL;
	if (mrc != 0)
		goto fail;
	rc = 0;
	goto out;
fail:
	rc = journal_mdb_err(j, eb, mrc, what);
out:
	if (txn != NULL)
		mdb_txn_abort(txn);
	return rc;
}

int
hq_journal_copy(struct hq_journal *j, const char *dst, struct hq_errbuf *eb)
{
	int fd, mrc, rc;

	fd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return hq_errf(eb, -errno, "journal copy %s: %s", dst,
		    strerror(errno));
	if ((mrc = mdb_env_copyfd2(j->env, fd, MDB_CP_COMPACT)) != 0) {
		rc = hq_errf(eb, journal_rc(mrc), "journal %s: copy to %s: %s",
		    j->path, dst, mdb_strerror(mrc));
		goto fail;
	}
	if (fsync(fd) != 0) {
		rc = hq_errf(eb, -errno, "journal copy %s: fsync: %s", dst,
		    strerror(errno));
		goto fail;
	}
	if (close(fd) != 0) {
		fd = -1;
		rc = hq_errf(eb, -errno, "journal copy %s: close: %s", dst,
		    strerror(errno));
		goto fail;
	}
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlink(dst);
	return rc;
}

int
hq_journal_truncate(struct hq_journal *j, uint64_t from, uint64_t *kept,
    struct hq_errbuf *eb)
{
	MDB_txn *txn = NULL;
	MDB_cursor *c = NULL;
	MDB_val k, v;
	uint64_t cut = from, key, base_seq, head;
	int mrc, rc;
	MDB_dbi dbis[3];
	int d;

	if (j->readonly || j->started || j->last_seq > j->handed_seq)
		return hq_errf(eb, HQ_EINVAL,
		    "journal %s: truncate needs an idle writer", j->path);
	if ((mrc = mdb_txn_begin(j->env, NULL, 0, &txn)) != 0)
		return journal_mdb_err(j, eb, mrc, "begin");
	/* Cut at the start of the commit holding 'from'. */
	if ((mrc = mdb_cursor_open(txn, j->chain, &c)) != 0) {
		rc = journal_mdb_err(j, eb, mrc, "open chain");
		goto out;
	}
	key = from;
	k.mv_size = sizeof key;
	k.mv_data = &key;
	mrc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	if (mrc == 0 && v.mv_size == JOURNAL_CHAIN_VAL) {
		uint64_t first = journal_get_le64(v.mv_data);

		if (first < cut)
			cut = first;
	}
	mdb_cursor_close(c);
	c = NULL;
	dbis[0] = j->events;
	dbis[1] = j->chain;
	dbis[2] = j->ckpts;
	for (d = 0; d < 3; d++) {
		if ((mrc = mdb_cursor_open(txn, dbis[d], &c)) != 0) {
			rc = journal_mdb_err(j, eb, mrc, "open cursor");
			goto out;
		}
		key = cut;
		k.mv_size = sizeof key;
		k.mv_data = &key;
		for (mrc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); mrc == 0;
		     mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
			if ((mrc = mdb_cursor_del(c, 0)) != 0)
				break;
		}
		if (mrc != MDB_NOTFOUND && mrc != 0) {
			rc = journal_mdb_err(j, eb, mrc, "delete");
			goto out;
		}
		mdb_cursor_close(c);
		c = NULL;
	}
	/* The new head: the last remaining commit, or the chain base. */
	if ((rc = journal_read_base(j, txn, j->head_link, &base_seq, eb)) != 0)
		goto out;
	head = base_seq;
	if ((rc = journal_last_key(j, txn, j->chain, &head, &v, eb)) != 0)
		goto out;
	if (head != base_seq && v.mv_size == JOURNAL_CHAIN_VAL)
		memcpy(j->head_link, (uint8_t *)v.mv_data + 8, JOURNAL_LINK);
	mrc = mdb_txn_commit(txn);
	txn = NULL;
	if (mrc != 0) {
		rc = journal_mdb_err(j, eb, mrc, "commit");
		goto out;
	}
	j->head_seq = head;
	j->last_seq = j->handed_seq = j->durable_seq = head;
	if (j->cur != NULL && j->cur->nrec == 0)
		j->cur->first_seq = head + 1;
	pthread_mutex_lock(&j->mu);
	j->done_seq = head;
	pthread_mutex_unlock(&j->mu);
	*kept = head;
	rc = 0;
out:
	if (c != NULL)
		mdb_cursor_close(c);
	if (txn != NULL)
		mdb_txn_abort(txn);
	return rc;
}
