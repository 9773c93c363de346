/* SPDX-License-Identifier: MIT */
/*
 * hq-replay: audit a journal, also while the server runs. Opens it
 * read-only and rebuilds the state through hq_state_apply(), the function
 * the server itself uses, so what it shows is what the server saw.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/table.h"
#include "common/buf.h"
#include "common/event.h"
#include "common/evjson.h"
#include "common/fmt.h"
#include "common/model.h"
#include "common/parse.h"
#include "common/util.h"
#include "common/wire.h"
#include "journal/journal.h"
#include "server/snapshot.h"
#include "server/state.h"

/* Exit statuses. */
#define REPLAY_EXIT_OK	  0
#define REPLAY_EXIT_BAD	  1 /* damaged or unreadable journal, bad record */
#define REPLAY_EXIT_USAGE 2

/* A record callback's "stop here", distinct from errors (negative). */
#define REPLAY_STOP 1

/* Bad records reported on stderr before the rest are only counted. */
#define REPLAY_MAX_WARN 10

/* Options a command accepts. */
#define RO_JOB	 0x01
#define RO_TASK	 0x02
#define RO_RANGE 0x04 /* --since, --until */
#define RO_AT	 0x08
#define RO_JSON	 0x10
#define RO_CKPT	 0x20 /* --from-checkpoint */

struct replay;

typedef int replay_exec_fn(struct replay *r);
typedef int replay_event_fn(struct replay *r, uint64_t seq,
    const struct hq_event *ev, size_t len);

struct replay_cmd {
	const char *name;
	const char *synopsis; /* after "hq-replay NAME JOURNAL" */
	const char *help;
	unsigned opts;
	replay_exec_fn *exec;
};

/* The statistics of one event kind (stats). */
struct replay_kind_stat {
	uint64_t events;
	uint64_t tasks;
	uint64_t bytes;
};

/* The event kinds of hq_event_kind_name(), in display order. */
static const char *const replay_kinds[] = {
	"server-start", "server-stop", "worker-connected", "worker-lost",
	"job-created", "job-open", "job-close", "job-cancel", "job-forget",
	"task-assigned", "task-started", "task-finished", "task-requeued",
	"task-failed",
	"other", /* none today: the decoder admits only the kinds above */
};
#define REPLAY_NKINDS HQ_ARRAY_LEN(replay_kinds)

struct replay {
	const struct replay_cmd *cmd;
	/* options */
	const char *path;
	bool json;
	bool has_job, has_task;
	uint32_t job, task;
	uint64_t since_ms, until_ms;
	bool has_at, at_is_seq;
	uint64_t at;
	bool from_ckpt;

	struct hq_journal *j;
	struct hq_journal_stat js;
	struct hq_state *st; /* NULL: decode only (no base to apply to) */
	FILE *out;

	/* checkpoints, in seq order, and the state the walk starts from */
	uint64_t *ckpts;
	uint32_t nckpts, ckptcap;
	uint64_t base_seq; /* st holds every record <= base_seq */

	/* the walk over the records */
	replay_event_fn *on_event;
	bool stop_on_bad;
	bool drop_state_on_bad; /* go on without the state after a bad one */
	uint64_t next_seq;	/* expected seq of the next record, 0: any */
	uint64_t n_seen, n_decoded, n_applied;
	uint64_t first_time_ms, last_time_ms; /* of decoded records */
	uint64_t st_seq, st_time_ms;	      /* last record applied */
	uint64_t n_bad, first_bad;
	char bad_msg[sizeof(struct hq_errbuf)];
	bool out_failed;

	/* verify: checkpoints compared with the rebuilt state */
	uint32_t ckpt_next; /* index of the next one to compare */
	uint64_t n_ckpt_same, n_ckpt_bad, n_ckpt_skipped, first_bad_ckpt;
	bool ckpts_unreadable;
	char ckpt_msg[sizeof(struct hq_errbuf)];

	/* stats */
	struct replay_kind_stat kinds[REPLAY_NKINDS];
};

/* ---- faults inside LMDB -------------------------------------------------- */

/*
 * LMDB does not checksum its pages: a file damaged inside a page can make
 * it (or a reader of the values it returns) touch memory outside the map
 * and take SIGSEGV or SIGBUS. While control is inside the journal library
 * such a fault is reported as damage and the exit status is 1; anywhere
 * else (our own code, hq_state_apply) the default action applies, so real
 * bugs still dump core.
 */
static volatile sig_atomic_t replay_in_journal;
static char replay_fault_msg[512];
static size_t replay_fault_len;

static void
replay_fault_cb(HQ_UNUSED int sig)
{
	ssize_t n;

	if (replay_in_journal) {
		n = write(STDERR_FILENO, replay_fault_msg, replay_fault_len);
		(void)n;
		_exit(REPLAY_EXIT_BAD);
	}
	/* SA_RESETHAND restored the default: the fault repeats and kills. */
}

static void
replay_fault_setup(const char *path)
{
	struct sigaction sa;

	snprintf(replay_fault_msg, sizeof replay_fault_msg,
	    "hq-replay: %s: the journal is damaged inside its LMDB pages "
	    "(fault while reading it); restore it from a copy\n",
	    path);
	replay_fault_len = strlen(replay_fault_msg);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = replay_fault_cb;
	sa.sa_flags = SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
}

/* ---- small helpers ------------------------------------------------------- */

/* ms since the epoch as "2026-11-25T17:00:00Z" (".123" when ms != 0). */
static void
replay_fmt_time(char *buf, size_t size, uint64_t ms)
{
	struct hq_buf b;
	char *dot;

	hq_buf_init(&b);
	hq_fmt_rfc3339(&b, ms);
	/* "...:SS.fffffffffZ" -> "...:SSZ" or "...:SS.fffZ" */
	dot = strrchr((char *)b.data, '.');
	if (dot != NULL) {
		if (ms % 1000 == 0)
			strcpy(dot, "Z");
		else
			strcpy(dot + 4, "Z");
	}
	snprintf(buf, size, "%s", (const char *)b.data);
	hq_buf_fini(&b);
}

static json_t *
replay_json_time(uint64_t ms)
{
	struct hq_buf b;
	json_t *j;

	hq_buf_init(&b);
	hq_fmt_rfc3339(&b, ms);
	j = json_stringn((const char *)b.data, b.len);
	hq_buf_fini(&b);
	return j;
}

/* A string from the journal, with control characters escaped, so that
 * one event stays one line. */
static void
replay_put_text(FILE *out, const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *)(s ? s : ""); *p != '\0'; p++) {
		if (*p == '\n')
			fputs("\\n", out);
		else if (*p == '\t')
			fputs("\\t", out);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(out, "\\x%02x", *p);
		else
			fputc(*p, out);
	}
}

static const char *
replay_plural(uint64_t n)
{
	return n == 1 ? "" : "s";
}

static int
replay_cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* "0-9,12" for a list of ids in any order. */
static void
replay_put_ids(FILE *out, const uint32_t *ids, uint32_t n)
{
	uint32_t *sorted = hq_xmemdup(ids, (size_t)n * sizeof *ids);
	struct hq_buf b;

	qsort(sorted, n, sizeof *sorted, replay_cmp_u32);
	hq_buf_init(&b);
	hq_fmt_ids_sorted(&b, sorted, n);
	fputs((const char *)b.data, out);
	hq_buf_fini(&b);
	free(sorted);
}

static bool
replay_all_digits(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* Exactly n digits at *p. */
static bool
replay_digits(const char **p, int n, int *out)
{
	int v = 0;

	for (; n > 0; n--, (*p)++) {
		if (**p < '0' || **p > '9')
			return false;
		v = v * 10 + (**p - '0');
	}
	*out = v;
	return true;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t
replay_days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int
replay_days_in_month(int y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
		31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : days[m - 1];
}

/* Seconds since the epoch, with up to 3 meaningful fraction digits. */
static int
replay_parse_epoch(const char *s, uint64_t *ms)
{
	uint64_t secs = 0, frac = 0;
	int nfrac = 0;

	if (*s < '0' || *s > '9')
		return HQ_EINVAL;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (secs > (UINT64_MAX / 1000 - 9) / 10)
			return HQ_EINVAL;
		secs = secs * 10 + (uint64_t)(*s - '0');
	}
	if (*s == '.') {
		if (s[1] < '0' || s[1] > '9')
			return HQ_EINVAL;
		for (s++; *s >= '0' && *s <= '9'; s++, nfrac++)
			if (nfrac < 3)
				frac = frac * 10 + (uint64_t)(*s - '0');
	}
	if (*s != '\0')
		return HQ_EINVAL;
	for (; nfrac < 3; nfrac++)
		frac *= 10;
	*ms = secs * 1000 + frac;
	return 0;
}

/*
 * TIME: RFC 3339 ("2026-11-25T17:00:00Z", "...T18:00:00.5+01:00") or
 * seconds since the epoch ("1795626000", "@1795626000.25").
 */
static int
replay_parse_time(const char *s, uint64_t *ms, struct hq_errbuf *eb)
{
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	uint64_t frac = 0;
	int nfrac = 0;
	int64_t total;
	const char *p = s;

	if (*p == '@' ||
	    (*p >= '0' && *p <= '9' && strchr(p, '-') == NULL &&
		strchr(p, ':') == NULL)) {
		if (replay_parse_epoch(*p == '@' ? p + 1 : p, ms) == 0)
			return 0;
		goto bad;
	}
	if (!replay_digits(&p, 4, &y) || *p++ != '-' ||
	    !replay_digits(&p, 2, &mo) || *p++ != '-' ||
	    !replay_digits(&p, 2, &d))
		goto bad;
	if (*p != 'T' && *p != 't' && *p != ' ')
		goto bad;
	p++;
	if (!replay_digits(&p, 2, &h) || *p++ != ':' ||
	    !replay_digits(&p, 2, &mi) || *p++ != ':' ||
	    !replay_digits(&p, 2, &sec))
		goto bad;
	if (*p == '.') {
		if (p[1] < '0' || p[1] > '9')
			goto bad;
		for (p++; *p >= '0' && *p <= '9'; p++, nfrac++)
			if (nfrac < 3)
				frac = frac * 10 + (uint64_t)(*p - '0');
		for (; nfrac < 3; nfrac++)
			frac *= 10;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p++ == '+' ? 1 : -1;
		if (!replay_digits(&p, 2, &oh) || *p++ != ':' ||
		    !replay_digits(&p, 2, &om) || oh > 23 || om > 59)
			goto bad;
	} else {
		goto bad;
	}
	if (*p != '\0')
		goto bad;
	if (mo < 1 || mo > 12 || d < 1 || d > replay_days_in_month(y, mo) ||
	    h > 23 || mi > 59 || sec > 60)
		return hq_errf(eb, HQ_EINVAL,
		    "invalid time \"%s\": no such date or time of day", s);
	total = replay_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 +
	    sec - sign * (oh * 3600 + om * 60);
	if (total < 0)
		return hq_errf(eb, HQ_EINVAL,
		    "invalid time \"%s\": before 1970-01-01T00:00:00Z", s);
	*ms = (uint64_t)total * 1000 + frac;
	return 0;
bad:
	return hq_errf(eb, HQ_EINVAL,
	    "invalid time \"%s\": expected RFC 3339 (2026-11-25T17:00:00Z) "
	    "or seconds since the epoch",
	    s);
}

/* --at: "seq:N" or a bare integer is a seq, anything else a TIME. */
static int
replay_parse_at(struct replay *r, const char *s, struct hq_errbuf *eb)
{
	const char *num = NULL;
	int rc;

	if (strncmp(s, "seq:", 4) == 0)
		num = s + 4;
	else if (replay_all_digits(s))
		num = s;
	if (num != NULL) {
		if (!replay_all_digits(num) ||
		    hq_parse_u64(num, &r->at, NULL) != 0)
			return hq_errf(eb, HQ_EINVAL,
			    "invalid seq \"%s\": expected seq:N or N", s);
		r->at_is_seq = true;
		return 0;
	}
	if ((rc = replay_parse_time(s, &r->at, eb)) != 0)
		return hq_errf(eb, rc,
		    "invalid --at \"%s\": expected a seq (seq:N or N), RFC "
		    "3339 (2026-11-25T17:00:00Z) or @SECONDS since the epoch",
		    s);
	r->at_is_seq = false;
	return 0;
}

/* ---- the walk over the records ------------------------------------------ */

/* Note a bad record: the first one is kept, the first few are shown. */
static void HQ_PRINTF(3, 4)
    replay_bad(struct replay *r, uint64_t seq, const char *fmt, ...)
{
	char msg[sizeof r->bad_msg];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (r->n_bad++ == 0) {
		r->first_bad = seq;
		snprintf(r->bad_msg, sizeof r->bad_msg, "%s", msg);
	}
	if (r->stop_on_bad)
		return;
	if (r->drop_state_on_bad && r->st != NULL) {
		/* A record that is missing or does not apply leaves a state
		 * the server never had: stop following it. */
		fprintf(stderr,
		    "hq-replay: %s: seq %" PRIu64 ": %s; the state is not "
		    "followed after it (no instances from here on)\n",
		    r->path, seq, msg);
		hq_state_destroy(r->st);
		r->st = NULL;
		return;
	}
	if (r->n_bad <= REPLAY_MAX_WARN)
		fprintf(stderr, "hq-replay: %s: seq %" PRIu64 ": %s\n", r->path,
		    seq, msg);
	else if (r->n_bad == REPLAY_MAX_WARN + 1)
		fprintf(stderr,
		    "hq-replay: %s: more bad records; only counting them\n",
		    r->path);
}

/* Apply one event to the rebuilt state (if there is one). */
static int
replay_apply(struct replay *r, uint64_t seq, const struct hq_event *ev)
{
	struct hq_errbuf eb = { { 0 } };
	int rc;

	/* Records up to the base are in the restored state already. */
	if (r->st == NULL || seq <= r->base_seq)
		return 0;
	if ((rc = hq_state_apply(r->st, ev, &eb)) != 0) {
		replay_bad(r, seq, "cannot apply %s: %s",
		    hq_event_kind_name(ev), eb.msg);
		return rc;
	}
	r->n_applied++;
	r->st_seq = seq;
	r->st_time_ms = ev->time_ms;
	return 0;
}

static int
replay_record_cb(uint64_t seq, const void *rec, size_t len, void *arg)
{
	struct replay *r = arg;
	struct hq_errbuf eb = { { 0 } };
	struct hq_event ev;
	int rc;

	if (r->next_seq != 0 && seq != r->next_seq) {
		replay_bad(r, r->next_seq,
		    "records %" PRIu64 "..%" PRIu64 " are missing", r->next_seq,
		    seq - 1);
		if (r->stop_on_bad)
			return REPLAY_STOP;
	}
	r->next_seq = seq + 1;
	r->n_seen++;
	/* 'rec' points into the map: decoding it may still fault. */
	rc = hq_wire_decode_event(rec, len, &ev, &eb);
	replay_in_journal = 0;
	if (rc != 0) {
		replay_bad(r, seq, "undecodable record (%zu bytes): %s", len,
		    eb.msg);
		rc = r->stop_on_bad ? REPLAY_STOP : 0;
		goto out;
	}
	if (r->n_decoded++ == 0)
		r->first_time_ms = ev.time_ms;
	r->last_time_ms = ev.time_ms;
	rc = r->on_event(r, seq, &ev, len);
	hq_event_fini(&ev);
	if (rc == 0 && ferror(r->out)) {
		r->out_failed = true;
		rc = REPLAY_STOP;
	}
out:
	replay_in_journal = 1;
	return rc;
}

/* Walk the records from..to; 0, or REPLAY_EXIT_BAD when reading failed. */
static int
replay_walk(struct replay *r, uint64_t from, uint64_t to)
{
	int rc;

	replay_in_journal = 1;
	rc = hq_journal_foreach(r->j, from, to, replay_record_cb, r);
	replay_in_journal = 0;
	if (rc < 0) {
		fprintf(stderr, "hq-replay: %s: reading records: %s\n", r->path,
		    hq_strerror(rc));
		return REPLAY_EXIT_BAD;
	}
	return 0;
}

/* ---- checkpoints and the base state ------------------------------------- */

/*
 * The seq the stored history starts after: 0 for a complete history (the
 * first record is seq 1, or there is none), else the last pruned seq. Only
 * a checkpoint at or after it can be a base: the records after it exist.
 */
static uint64_t
replay_hist_base(const struct replay *r)
{
	if (r->js.first_seq > 0)
		return r->js.first_seq - 1;
	/* No records at all: pruned up to the newest checkpoint, if any. */
	return r->js.last_checkpoint_seq;
}

/* The history was pruned (hq journal prune, retention). */
static bool
replay_pruned(const struct replay *r)
{
	return replay_hist_base(r) > 0;
}

static int
replay_ckpt_list_cb(uint64_t seq, HQ_UNUSED const void *snap,
    HQ_UNUSED size_t len, void *arg)
{
	struct replay *r = arg;

	HQ_VEC_PUSH(r->ckpts, r->nckpts, r->ckptcap, seq);
	return 0;
}

/* Read the seqs of the stored checkpoints into r->ckpts. */
static int
replay_load_ckpts(struct replay *r, struct hq_errbuf *eb)
{
	int was = replay_in_journal, rc;

	r->nckpts = 0;
	replay_in_journal = 1;
	rc = hq_journal_foreach_checkpoint(r->j, replay_ckpt_list_cb, r);
	replay_in_journal = was;
	if (rc < 0)
		return hq_errf(eb, rc, "cannot read the checkpoints: %s",
		    hq_strerror(rc));
	return 0;
}

struct replay_ckpt_get {
	uint64_t seq;
	uint8_t *data;
	size_t len;
	bool found;
};

static int
replay_ckpt_get_cb(uint64_t seq, const void *snap, size_t len, void *arg)
{
	struct replay_ckpt_get *g = arg;

	if (seq < g->seq)
		return 0;
	if (seq == g->seq) {
		/* 'snap' points into the map: copying it may fault. */
		g->data = hq_xmemdup(snap, len > 0 ? len : 1);
		g->len = len;
		g->found = true;
	}
	return REPLAY_STOP;
}

/*
 * A copy of the checkpoint stored at 'seq': 0 and *data (caller frees),
 * HQ_ENOTFOUND (pruned meanwhile by a running server), or a journal error.
 * May run inside a record callback: the journal opens one read transaction
 * per call and allows several at a time (MDB_NOTLS).
 */
static int
replay_get_ckpt(struct replay *r, uint64_t seq, uint8_t **data, size_t *len)
{
	struct replay_ckpt_get g = { .seq = seq };
	int was = replay_in_journal, rc;

	replay_in_journal = 1;
	rc = hq_journal_foreach_checkpoint(r->j, replay_ckpt_get_cb, &g);
	replay_in_journal = was;
	if (rc < 0) {
		free(g.data);
		return rc;
	}
	if (!g.found)
		return HQ_ENOTFOUND;
	*data = g.data;
	*len = g.len;
	return 0;
}

static int
replay_time_cb(HQ_UNUSED uint64_t seq, const void *rec, size_t len, void *arg)
{
	struct hq_event ev;

	if (hq_wire_decode_event(rec, len, &ev, NULL) == 0) {
		*(uint64_t *)arg = ev.time_ms;
		hq_event_fini(&ev);
	}
	return REPLAY_STOP;
}

/* The time of record 'seq'; 0 when it is not stored or does not decode. */
static uint64_t
replay_record_time(struct replay *r, uint64_t seq)
{
	uint64_t ms = 0;
	int was = replay_in_journal;

	replay_in_journal = 1;
	(void)hq_journal_foreach(r->j, seq, seq, replay_time_cb, &ms);
	replay_in_journal = was;
	return ms;
}

/*
 * The newest checkpoint that can be a base at or before 'want' (newest),
 * or the oldest that can be one (!newest). 0 in *cseq: start from the
 * empty state (complete history and no such checkpoint, or none wanted).
 */
static int
replay_pick_base(struct replay *r, bool newest, uint64_t want, uint64_t *cseq,
    struct hq_errbuf *eb)
{
	uint64_t hb = replay_hist_base(r), best = 0, oldest = 0;
	bool found = false;
	uint32_t i;

	for (i = 0; i < r->nckpts; i++) {
		if (r->ckpts[i] < hb || r->ckpts[i] == 0)
			continue;
		if (oldest == 0)
			oldest = r->ckpts[i];
		if (!newest) {
			best = r->ckpts[i];
			found = true;
			break;
		}
		if (r->ckpts[i] <= want) {
			best = r->ckpts[i];
			found = true;
		}
	}
	if (found || hb == 0) {
		*cseq = found ? best : 0;
		return 0;
	}
	if (oldest != 0)
		return hq_errf(eb, HQ_ENOTFOUND,
		    "history before seq %" PRIu64 " was pruned: the oldest "
		    "state that can be rebuilt is the one after seq %" PRIu64
		    " (a checkpoint)",
		    hb + 1, oldest);
	return hq_errf(eb, HQ_ECORRUPT,
	    "history before seq %" PRIu64 " was pruned and there is no "
	    "checkpoint at or after seq %" PRIu64 " to start from",
	    hb + 1, hb);
}

/*
 * Make r->st the state of the checkpoint at 'cseq' (0: leave the empty
 * state): records <= cseq are then only decoded by the walk, not applied.
 * On failure r->st is unchanged and 'eb' names the checkpoint.
 */
static int
replay_restore(struct replay *r, uint64_t cseq, struct hq_errbuf *eb)
{
	struct hq_errbuf inner = { { 0 } };
	struct hq_state *st = NULL;
	uint8_t *data = NULL;
	size_t len = 0;
	int rc;

	if (cseq == 0)
		return 0;
	if ((rc = replay_get_ckpt(r, cseq, &data, &len)) != 0)
		return hq_errf(eb, rc,
		    "the checkpoint at seq %" PRIu64 " cannot be read: %s",
		    cseq,
		    rc == HQ_ENOTFOUND ? "it was pruned meanwhile"
				       : hq_strerror(rc));
	/* The decoder checks every length and index: no fault to expect. */
	rc = hq_state_restore(data, len, &st, &inner);
	free(data);
	if (rc != 0)
		return hq_errf(eb, rc,
		    "the checkpoint at seq %" PRIu64 " cannot be restored: %s",
		    cseq, inner.msg);
	hq_state_destroy(r->st);
	r->st = st;
	r->base_seq = cseq;
	r->st_seq = cseq;
	r->st_time_ms = replay_record_time(r, cseq);
	r->n_applied = 0;
	return 0;
}

/*
 * The state the walk over all records starts from: the empty state for a
 * complete history, else the oldest checkpoint after the pruned part
 * (records before it are decoded, not applied). Errors name the problem;
 * r->st is then left as it was.
 */
static int
replay_restore_base(struct replay *r, struct hq_errbuf *eb)
{
	uint64_t cseq = 0;
	int rc;

	if (!replay_pruned(r))
		return 0;
	if ((rc = replay_load_ckpts(r, eb)) != 0 ||
	    (rc = replay_pick_base(r, false, UINT64_MAX, &cseq, eb)) != 0)
		return rc;
	return replay_restore(r, cseq, eb);
}

/* ---- events -------------------------------------------------------------- */

/* A task the lost worker had (events). */
struct replay_lost {
	uint32_t job, idx, task;
};

/* What the event changed, for the human lines (events). */
struct replay_ctx {
	struct replay_lost *lost;
	uint32_t nlost, lostcap;
	uint32_t *before; /* per job of a JOBS_* event: canceled before */
	uint32_t aborted_before;
	bool task_known;
	uint8_t task_state;
};

static const struct hq_task *
replay_task(const struct replay *r, uint32_t job_id, uint32_t task_id)
{
	const struct hq_job *job;
	int64_t idx;

	if (r->st == NULL || (job = hq_state_job(r->st, job_id)) == NULL ||
	    (idx = hq_job_task_index(job, task_id)) < 0)
		return NULL;
	return &job->tasks[idx];
}

static bool
replay_submit_has_task(const struct hq_submit *s, uint32_t task)
{
	uint32_t i;

	if (!s->graph)
		return hq_idset_contains(&s->ids, task);
	for (i = 0; i < s->ntasks; i++)
		if (s->tasks[i].id == task)
			return true;
	return false;
}

/* Does the task filter (if any) let the task through? */
static bool
replay_match(const struct replay *r, uint32_t job, uint32_t task)
{
	return (!r->has_job || job == r->job) &&
	    (!r->has_task || task == r->task);
}

/* Does event 'ev' concern the filtered job or task (lost: see ctx)? */
static bool
replay_event_matches(const struct replay *r, const struct hq_event *ev,
    const struct replay_ctx *c)
{
	uint32_t i;

	if (!r->has_job)
		return true;
	switch (ev->kind) {
	case HQ_EV_JOB_SUBMITTED:
		return ev->u.submitted.job_id == r->job &&
		    (!r->has_task ||
			replay_submit_has_task(&ev->u.submitted.submit,
			    r->task));
	case HQ_EV_JOB_OPENED:
		return ev->u.opened.job_id == r->job;
	case HQ_EV_JOBS_CLOSED:
	case HQ_EV_JOBS_CANCELED:
	case HQ_EV_JOBS_FORGOTTEN:
		for (i = 0; i < ev->u.jobs.n; i++)
			if (ev->u.jobs.ids[i] == r->job)
				return true;
		return false;
	case HQ_EV_TASK_RUN:
		for (i = 0; i < ev->u.run.n; i++)
			if (replay_match(r, ev->u.run.job, ev->u.run.tasks[i]))
				return true;
		return false;
	case HQ_EV_TASK_FAILED:
		return replay_match(r, ev->u.failed.job, ev->u.failed.task);
	case HQ_EV_WORKER_LOST:
		for (i = 0; i < c->nlost; i++)
			if (replay_match(r, c->lost[i].job, c->lost[i].task))
				return true;
		return false;
	case HQ_EV_SERVER_STARTED:
	case HQ_EV_SERVER_STOPPED:
	case HQ_EV_WORKER_CONNECTED:
	case HQ_EV_ALLOC:
		return false;
	}
	return false;
}

/* Before applying: what the human lines will need to compare. */
static void
replay_ctx_before(struct replay *r, const struct hq_event *ev,
    struct replay_ctx *c)
{
	const struct hq_sworker *w;
	const struct hq_job *job;
	const struct hq_task *t;
	uint32_t i;

	if (r->st == NULL)
		return;
	switch (ev->kind) {
	case HQ_EV_WORKER_LOST:
		if ((w = hq_state_worker(r->st, ev->u.wlost.worker_id)) == NULL)
			break;
		for (i = 0; i < w->ninflight; i++) {
			struct replay_lost l;

			if ((job = hq_state_job(r->st, w->inflight[i].job)) ==
			    NULL)
				continue;
			l.job = job->id;
			l.idx = w->inflight[i].idx;
			l.task = job->tasks[l.idx].id;
			HQ_VEC_PUSH(c->lost, c->nlost, c->lostcap, l);
		}
		break;
	case HQ_EV_JOBS_CANCELED:
		c->before = hq_xcalloc(ev->u.jobs.n + 1, sizeof *c->before);
		for (i = 0; i < ev->u.jobs.n; i++)
			if ((job = hq_state_job(r->st, ev->u.jobs.ids[i])) !=
			    NULL)
				c->before[i] = job->counts[HQ_TASK_CANCELED];
		break;
	case HQ_EV_TASK_FAILED:
		if ((job = hq_state_job(r->st, ev->u.failed.job)) != NULL)
			c->aborted_before = job->counts[HQ_TASK_ABORTED];
		break;
	default:
		break;
	}
	if (r->has_task && (t = replay_task(r, r->job, r->task)) != NULL) {
		c->task_known = true;
		c->task_state = t->state;
	}
}

static void
replay_ctx_fini(struct replay_ctx *c)
{
	free(c->lost);
	free(c->before);
}

/* "#42 2026-11-25T17:00:00Z " */
static void
replay_prefix(struct replay *r, uint64_t seq, const struct hq_event *ev)
{
	char tbuf[48];

	replay_fmt_time(tbuf, sizeof tbuf, ev->time_ms);
	fprintf(r->out, "#%" PRIu64 " %s ", seq, tbuf);
}

/* " on worker 2 (instance 0)" from the state after the event. */
static void
replay_put_where(struct replay *r, const char *prep, uint32_t job,
    uint32_t task, uint32_t ev_worker)
{
	const struct hq_task *t = replay_task(r, job, task);
	uint32_t worker = ev_worker;

	if (t != NULL && (t->flags & HQ_TF_INSTANCED) && t->worker != 0)
		worker = t->worker;
	if (worker != 0)
		fprintf(r->out, " %s worker %" PRIu32, prep, worker);
	if (t != NULL && (t->flags & HQ_TF_INSTANCED))
		fprintf(r->out, " (instance %" PRIu32 ")", t->instance);
}

static void
replay_human_run(struct replay *r, uint64_t seq, const struct hq_event *ev)
{
	static const char *const verbs[] = {
		[HQ_RUN_ASSIGNED] = "assigned",
		[HQ_RUN_STARTED] = "started",
		[HQ_RUN_FINISHED] = "finished",
		[HQ_RUN_REQUEUED] = "requeued",
	};
	static const char *const preps[] = {
		[HQ_RUN_ASSIGNED] = "to",
		[HQ_RUN_STARTED] = "on",
		[HQ_RUN_FINISHED] = "on",
		[HQ_RUN_REQUEUED] = "from",
	};
	const char *verb = verbs[ev->u.run.kind];
	uint32_t i, n = 0, one = 0;

	for (i = 0; i < ev->u.run.n; i++)
		if (replay_match(r, ev->u.run.job, ev->u.run.tasks[i])) {
			one = ev->u.run.tasks[i];
			n++;
		}
	if (n == 0)
		return;
	replay_prefix(r, seq, ev);
	if (n == 1) {
		fprintf(r->out, "job %" PRIu32 " task %" PRIu32 ": %s",
		    ev->u.run.job, one, verb);
		replay_put_where(r, preps[ev->u.run.kind], ev->u.run.job, one,
		    ev->u.run.worker);
	} else {
		/* Only a task filter drops tasks, and it keeps one. */
		fprintf(r->out, "job %" PRIu32 " tasks ", ev->u.run.job);
		replay_put_ids(r->out, ev->u.run.tasks, ev->u.run.n);
		fprintf(r->out, " (%" PRIu32 "): %s", n, verb);
		if (ev->u.run.worker != 0)
			fprintf(r->out, " %s worker %" PRIu32,
			    preps[ev->u.run.kind], ev->u.run.worker);
	}
	fputc('\n', r->out);
}

static void
replay_human_jobs(struct replay *r, uint64_t seq, const struct hq_event *ev,
    const struct replay_ctx *c)
{
	const char *what = ev->kind == HQ_EV_JOBS_CLOSED ? "closed"
	    : ev->kind == HQ_EV_JOBS_CANCELED		 ? "canceled"
							 : "forgotten";
	uint64_t ncanceled = 0;
	const struct hq_job *job;
	uint32_t i;

	if (ev->u.jobs.n == 0)
		return;
	replay_prefix(r, seq, ev);
	if (r->has_job) {
		fprintf(r->out, "job %" PRIu32 ": %s", r->job, what);
	} else {
		fprintf(r->out, "job%s ", ev->u.jobs.n > 1 ? "s" : "");
		replay_put_ids(r->out, ev->u.jobs.ids, ev->u.jobs.n);
		fprintf(r->out, ": %s", what);
	}
	if (ev->kind == HQ_EV_JOBS_CANCELED) {
		if (ev->u.jobs.reason != NULL) {
			fputs(" (", r->out);
			replay_put_text(r->out, ev->u.jobs.reason);
			fputc(')', r->out);
		}
		for (i = 0; c->before != NULL && i < ev->u.jobs.n; i++) {
			if (r->has_job && ev->u.jobs.ids[i] != r->job)
				continue;
			if ((job = hq_state_job(r->st, ev->u.jobs.ids[i])) !=
			    NULL)
				ncanceled += job->counts[HQ_TASK_CANCELED] -
				    c->before[i];
		}
		if (c->before != NULL)
			fprintf(r->out, ", %" PRIu64 " task%s canceled",
			    ncanceled, replay_plural(ncanceled));
	}
	fputc('\n', r->out);
}

static void
replay_human_lost(struct replay *r, uint64_t seq, const struct hq_event *ev,
    const struct replay_ctx *c)
{
	const char *reason = hq_lost_reason_name(ev->u.wlost.reason);
	uint32_t i, nreq = 0, nfail = 0;
	const struct hq_job *job;
	const struct hq_task *t;

	if (!r->has_job) {
		for (i = 0; i < c->nlost; i++) {
			job = hq_state_job(r->st, c->lost[i].job);
			t = job ? &job->tasks[c->lost[i].idx] : NULL;
			if (t != NULL && t->state == HQ_TASK_WAITING)
				nreq++;
			else if (t != NULL)
				nfail++;
		}
		replay_prefix(r, seq, ev);
		fprintf(r->out, "worker %" PRIu32 " lost (%s)",
		    ev->u.wlost.worker_id, reason);
		if (nreq > 0)
			fprintf(r->out, ", %" PRIu32 " task%s requeued", nreq,
			    replay_plural(nreq));
		if (nfail > 0)
			fprintf(r->out, ", %" PRIu32 " task%s failed", nfail,
			    replay_plural(nfail));
		fputc('\n', r->out);
		return;
	}
	/* Filtered: one line per task of the job, as that is its history. */
	for (i = 0; i < c->nlost; i++) {
		if (!replay_match(r, c->lost[i].job, c->lost[i].task))
			continue;
		job = hq_state_job(r->st, c->lost[i].job);
		t = job ? &job->tasks[c->lost[i].idx] : NULL;
		replay_prefix(r, seq, ev);
		fprintf(r->out, "job %" PRIu32 " task %" PRIu32 ": ",
		    c->lost[i].job, c->lost[i].task);
		if (t == NULL) {
			fprintf(r->out,
			    "was on worker %" PRIu32 ", lost (%s)\n",
			    ev->u.wlost.worker_id, reason);
			continue;
		}
		fprintf(r->out, "%s, worker %" PRIu32 " lost (%s)",
		    t->state == HQ_TASK_WAITING
			? "requeued"
			: hq_task_state_name((enum hq_task_state)t->state),
		    ev->u.wlost.worker_id, reason);
		if (t->crashes > 0)
			fprintf(r->out, ", crash count %u", t->crashes);
		if (t->state == HQ_TASK_FAILED) {
			fputs(": ", r->out);
			replay_put_text(r->out,
			    hq_job_task_error(job, c->lost[i].idx));
		}
		fputc('\n', r->out);
	}
}

static void
replay_human_submitted(struct replay *r, uint64_t seq,
    const struct hq_event *ev)
{
	const struct hq_submit *s = &ev->u.submitted.submit;
	const struct hq_job *job =
	    r->st ? hq_state_job(r->st, ev->u.submitted.job_id) : NULL;
	const char *name = ev->u.submitted.name;
	uint64_t n = s->graph ? s->ntasks : hq_idset_count(&s->ids);
	struct hq_buf b;

	if ((name == NULL || *name == '\0') && job != NULL)
		name = job->name;
	replay_prefix(r, seq, ev);
	fprintf(r->out, "job %" PRIu32 " \"", ev->u.submitted.job_id);
	replay_put_text(r->out, name);
	fprintf(r->out, "\": submitted %" PRIu64 " task%s", n,
	    replay_plural(n));
	if (!s->graph && s->ids.n > 0) {
		hq_buf_init(&b);
		hq_fmt_idset(&b, &s->ids);
		hq_buf_append(&b, "", 1);
		fprintf(r->out, " (ids %s)", (const char *)b.data);
		hq_buf_fini(&b);
	} else if (s->graph) {
		fputs(" (task graph)", r->out);
	}
	if (!ev->u.submitted.new_job)
		fputs(" into the open job", r->out);
	if (s->submit_dir != NULL) {
		fputs(" from ", r->out);
		replay_put_text(r->out, s->submit_dir);
	}
	fputc('\n', r->out);
}

static void
replay_human(struct replay *r, uint64_t seq, const struct hq_event *ev,
    const struct replay_ctx *c)
{
	const struct hq_job *job;
	const struct hq_task *t;
	const struct hq_worker_config *wc;

	switch (ev->kind) {
	case HQ_EV_SERVER_STARTED:
		replay_prefix(r, seq, ev);
		fputs("server started (uid ", r->out);
		replay_put_text(r->out, ev->u.started.server_uid);
		fprintf(r->out, ", pid %" PRIu32 ", host ", ev->u.started.pid);
		replay_put_text(r->out, ev->u.started.host);
		fputs(")\n", r->out);
		break;
	case HQ_EV_SERVER_STOPPED:
		replay_prefix(r, seq, ev);
		fputs("server stopped\n", r->out);
		break;
	case HQ_EV_WORKER_CONNECTED:
		wc = &ev->u.wconn.cfg;
		replay_prefix(r, seq, ev);
		fprintf(r->out, "worker %" PRIu32 " connected (host ",
		    ev->u.wconn.worker_id);
		replay_put_text(r->out, wc->hostname);
		fputs(", group ", r->out);
		replay_put_text(r->out, wc->group);
		fputs(")\n", r->out);
		break;
	case HQ_EV_WORKER_LOST:
		replay_human_lost(r, seq, ev, c);
		break;
	case HQ_EV_JOB_SUBMITTED:
		replay_human_submitted(r, seq, ev);
		break;
	case HQ_EV_JOB_OPENED:
		replay_prefix(r, seq, ev);
		fprintf(r->out, "job %" PRIu32 " \"", ev->u.opened.job_id);
		replay_put_text(r->out, ev->u.opened.name);
		fputs("\": opened\n", r->out);
		break;
	case HQ_EV_JOBS_CLOSED:
	case HQ_EV_JOBS_CANCELED:
	case HQ_EV_JOBS_FORGOTTEN:
		replay_human_jobs(r, seq, ev, c);
		break;
	case HQ_EV_TASK_RUN:
		replay_human_run(r, seq, ev);
		break;
	case HQ_EV_TASK_FAILED:
		replay_prefix(r, seq, ev);
		fprintf(r->out, "job %" PRIu32 " task %" PRIu32 ": failed",
		    ev->u.failed.job, ev->u.failed.task);
		replay_put_where(r, "on", ev->u.failed.job, ev->u.failed.task,
		    0);
		fputs(": ", r->out);
		replay_put_text(r->out, ev->u.failed.error);
		if (r->st != NULL &&
		    (job = hq_state_job(r->st, ev->u.failed.job)) != NULL &&
		    job->counts[HQ_TASK_ABORTED] > c->aborted_before)
			fprintf(r->out, " (%" PRIu32 " task%s aborted)",
			    job->counts[HQ_TASK_ABORTED] - c->aborted_before,
			    replay_plural(job->counts[HQ_TASK_ABORTED] -
				c->aborted_before));
		fputc('\n', r->out);
		break;
	case HQ_EV_ALLOC:
		replay_prefix(r, seq, ev);
		fprintf(r->out, "%s: queue %" PRIu32, hq_event_kind_name(ev),
		    ev->u.alloc.queue_id);
		if (ev->u.alloc.allocation_id != NULL) {
			fputs(", allocation ", r->out);
			replay_put_text(r->out, ev->u.alloc.allocation_id);
		}
		if (ev->u.alloc.message != NULL) {
			fputs(": ", r->out);
			replay_put_text(r->out, ev->u.alloc.message);
		}
		fputc('\n', r->out);
		break;
	}
	/* A filtered task that changed as a side effect (canceled with its
	 * job, aborted after a failure): say so on a line of its own. */
	if (r->has_task && c->task_known &&
	    (t = replay_task(r, r->job, r->task)) != NULL &&
	    t->state != c->task_state && ev->kind != HQ_EV_TASK_RUN &&
	    ev->kind != HQ_EV_TASK_FAILED && ev->kind != HQ_EV_WORKER_LOST) {
		replay_prefix(r, seq, ev);
		fprintf(r->out,
		    "job %" PRIu32 " task %" PRIu32 ": %s (by %s)\n", r->job,
		    r->task, hq_task_state_name((enum hq_task_state)t->state),
		    hq_event_kind_name(ev));
	}
	/* Aborted by another task's failure. */
	if (r->has_task && c->task_known && ev->kind == HQ_EV_TASK_FAILED &&
	    ev->u.failed.task != r->task &&
	    (t = replay_task(r, r->job, r->task)) != NULL &&
	    t->state != c->task_state) {
		replay_prefix(r, seq, ev);
		fprintf(r->out,
		    "job %" PRIu32 " task %" PRIu32 ": %s (task %" PRIu32
		    " failed)\n",
		    r->job, r->task,
		    hq_task_state_name((enum hq_task_state)t->state),
		    ev->u.failed.task);
	}
}

/* The NDJSON lines of the event that pass the filter. */
static int
replay_json_lines(struct replay *r, uint64_t seq, const struct hq_event *ev)
{
	uint32_t i, n = hq_event_json_nlines(ev);
	bool keep;
	json_t *o;

	for (i = 0; i < n; i++) {
		switch (ev->kind) {
		case HQ_EV_TASK_RUN:
			keep =
			    replay_match(r, ev->u.run.job, ev->u.run.tasks[i]);
			break;
		case HQ_EV_JOBS_CLOSED:
		case HQ_EV_JOBS_CANCELED:
		case HQ_EV_JOBS_FORGOTTEN:
			keep = !r->has_job || ev->u.jobs.ids[i] == r->job;
			break;
		default:
			keep = true;
			break;
		}
		if (!keep)
			continue;
		o = hq_event_to_json(ev, seq, r->st, i);
		if (json_dumpf(o, r->out, HQ_EVJSON_DUMP_FLAGS) != 0 ||
		    fputc('\n', r->out) == EOF) {
			json_decref(o);
			return -EIO;
		}
		json_decref(o);
	}
	return 0;
}

static int
replay_events_cb(struct replay *r, uint64_t seq, const struct hq_event *ev,
    HQ_UNUSED size_t len)
{
	struct replay_ctx c;
	bool shown = ev->time_ms >= r->since_ms && ev->time_ms <= r->until_ms;
	struct hq_state *held = NULL;

	/* A record kept from before the base checkpoint: the state is a
	 * later one, so its lines go without instances. */
	if (seq <= r->base_seq) {
		held = r->st;
		r->st = NULL;
	}
	memset(&c, 0, sizeof c);
	replay_ctx_before(r, ev, &c);
	(void)replay_apply(r, seq,
	    ev); /* a bad record is reported, not fatal */
	if (r->st == NULL) {
		/* Dropped just now: what was noted before is of no use. */
		replay_ctx_fini(&c);
		memset(&c, 0, sizeof c);
	}
	if (shown && replay_event_matches(r, ev, &c)) {
		if (r->json)
			(void)replay_json_lines(r, seq, ev);
		else
			replay_human(r, seq, ev, &c);
	}
	replay_ctx_fini(&c);
	if (held != NULL)
		r->st = held;
	return 0;
}

static int
replay_cmd_events(struct replay *r)
{
	struct hq_errbuf eb = { { 0 } };
	int rc;

	if (replay_restore_base(r, &eb) != 0) {
		fprintf(stderr,
		    "hq-replay: %s: %s; showing events without instances\n",
		    r->path, eb.msg);
		hq_state_destroy(r->st);
		r->st = NULL;
	}
	r->on_event = replay_events_cb;
	r->drop_state_on_bad = true;
	if ((rc = replay_walk(r, 0, UINT64_MAX)) != 0)
		return rc;
	if (r->n_bad > 0) {
		fprintf(stderr,
		    "hq-replay: %s: %" PRIu64 " bad record%s, the first at "
		    "seq %" PRIu64 ": %s\n",
		    r->path, r->n_bad, replay_plural(r->n_bad), r->first_bad,
		    r->bad_msg);
		return REPLAY_EXIT_BAD;
	}
	return REPLAY_EXIT_OK;
}

/* ---- state --------------------------------------------------------------- */

static int
replay_state_cb(struct replay *r, uint64_t seq, const struct hq_event *ev,
    HQ_UNUSED size_t len)
{
	if (r->has_at && !r->at_is_seq && ev->time_ms > r->at)
		return REPLAY_STOP;
	if (replay_apply(r, seq, ev) != 0)
		return REPLAY_STOP;
	return 0;
}

static json_t *
replay_job_json(const struct hq_job *job)
{
	return json_pack("{s:I, s:s, s:s, s:b, s:I, s:{s:I, s:I, s:I, s:I, "
			 "s:I, s:I}, s:o}",
	    "id", (json_int_t)job->id, "name", job->name, "state",
	    hq_job_state_name(hq_job_state(job)), "is_open", job->is_open,
	    "task_count", (json_int_t)job->ntasks, "task_stats", "waiting",
	    (json_int_t)job->counts[HQ_TASK_WAITING], "running",
	    (json_int_t)job->counts[HQ_TASK_RUNNING], "finished",
	    (json_int_t)job->counts[HQ_TASK_FINISHED], "failed",
	    (json_int_t)job->counts[HQ_TASK_FAILED], "canceled",
	    (json_int_t)job->counts[HQ_TASK_CANCELED], "aborted",
	    (json_int_t)job->counts[HQ_TASK_ABORTED], "cancel_reason",
	    job->cancel_reason ? json_string(job->cancel_reason) : json_null());
}

/* The worker a task is or was on, 0 when it never had an instance. */
static uint32_t
replay_task_worker(const struct hq_task *t)
{
	return (t->flags & HQ_TF_INSTANCED) ? t->worker : 0;
}

static json_t *
replay_tasks_json(const struct hq_job *job)
{
	json_t *arr = json_array(), *o;
	const char *err;
	uint32_t i;

	for (i = 0; i < job->ntasks; i++) {
		const struct hq_task *t = &job->tasks[i];

		o = json_pack("{s:I, s:s}", "id", (json_int_t)t->id, "state",
		    hq_task_state_name((enum hq_task_state)t->state));
		json_object_set_new(o, "instance",
		    (t->flags & HQ_TF_INSTANCED) ? json_integer(t->instance)
						 : json_null());
		json_object_set_new(o, "worker",
		    replay_task_worker(t) ? json_integer(t->worker)
					  : json_null());
		json_object_set_new(o, "assigned",
		    json_boolean(t->flags & HQ_TF_ASSIGNED));
		json_object_set_new(o, "crashes", json_integer(t->crashes));
		err = hq_job_task_error(job, i);
		json_object_set_new(o, "error",
		    err ? json_string(err) : json_null());
		json_array_append_new(arr, o);
	}
	return arr;
}

static json_t *
replay_workers_json(const struct hq_state *st)
{
	json_t *arr = json_array();
	uint32_t i;

	for (i = 1; i < st->workers_cap; i++) {
		const struct hq_sworker *w = st->workers[i];

		if (w == NULL)
			continue;
		json_array_append_new(arr,
		    json_pack("{s:I, s:s, s:b, s:o}", "id", (json_int_t)w->id,
			"hostname", w->cfg.hostname ? w->cfg.hostname : "",
			"online", w->online, "lost_reason",
			w->online ? json_null()
				  : json_string(
					hq_lost_reason_name(w->lost_reason))));
	}
	return arr;
}

static void
replay_state_print_json(struct replay *r, const struct hq_job *job)
{
	json_t *o = json_pack("{s:I, s:o, s:I, s:s}", "seq",
	    (json_int_t)r->st_seq, "time",
	    r->st_seq ? replay_json_time(r->st_time_ms) : json_null(),
	    "events_applied", (json_int_t)r->n_applied, "server_uid",
	    r->st->server_uid ? r->st->server_uid : "");
	json_t *jobs;
	uint32_t i;

	json_object_set_new(o, "checkpoint",
	    r->base_seq ? json_integer((json_int_t)r->base_seq) : json_null());
	if (r->st_seq != 0 && r->st_time_ms == 0)
		json_object_set_new(o, "time", json_null()); /* pruned */

	if (job != NULL) {
		json_object_set_new(o, "job", replay_job_json(job));
		json_object_set_new(o, "tasks", replay_tasks_json(job));
	} else {
		jobs = json_array();
		for (i = 1; i < r->st->jobs_cap; i++)
			if (r->st->jobs[i] != NULL)
				json_array_append_new(jobs,
				    replay_job_json(r->st->jobs[i]));
		json_object_set_new(o, "jobs", jobs);
		json_object_set_new(o, "workers", replay_workers_json(r->st));
	}
	json_dumpf(o, r->out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', r->out);
	json_decref(o);
}

static void
replay_cell_u64(char *buf, size_t size, uint64_t v)
{
	snprintf(buf, size, "%" PRIu64, v);
}

static void
replay_state_print_jobs(struct replay *r)
{
	static const char *const head[] = { "ID", "NAME", "STATE", "TASKS",
		"WAITING", "RUNNING", "FINISHED", "FAILED", "CANCELED",
		"ABORTED" };
	static const enum hq_task_state order[] = { HQ_TASK_WAITING,
		HQ_TASK_RUNNING, HQ_TASK_FINISHED, HQ_TASK_FAILED,
		HQ_TASK_CANCELED, HQ_TASK_ABORTED };
	struct hq_table *t = hq_table_create(HQ_ARRAY_LEN(head));
	char num[HQ_ARRAY_LEN(head)][24];
	const char *cells[HQ_ARRAY_LEN(head)];
	uint32_t i, online = 0, known = 0;
	size_t k;

	hq_table_set_header(t, head);
	for (k = 0; k < HQ_ARRAY_LEN(head); k++)
		if (k != 1 && k != 2)
			hq_table_right(t, k);
	for (i = 1; i < r->st->jobs_cap; i++) {
		const struct hq_job *job = r->st->jobs[i];

		if (job == NULL)
			continue;
		replay_cell_u64(num[0], sizeof num[0], job->id);
		replay_cell_u64(num[3], sizeof num[3], job->ntasks);
		for (k = 0; k < HQ_ARRAY_LEN(order); k++)
			replay_cell_u64(num[4 + k], sizeof num[4 + k],
			    job->counts[order[k]]);
		for (k = 0; k < HQ_ARRAY_LEN(head); k++)
			cells[k] = num[k];
		cells[1] = job->name;
		cells[2] = hq_job_state_name(hq_job_state(job));
		hq_table_add_row(t, cells);
	}
	for (i = 1; i < r->st->workers_cap; i++)
		if (r->st->workers[i] != NULL) {
			known++;
			online += r->st->workers[i]->online;
		}
	fprintf(r->out, "workers: %" PRIu32 " online, %" PRIu32 " offline\n",
	    online, known - online);
	if (r->st->njobs_live == 0)
		fputs("no jobs\n", r->out);
	else
		hq_table_print(t, r->out, false);
	hq_table_destroy(t);
}

static void
replay_state_print_tasks(struct replay *r, const struct hq_job *job)
{
	static const char *const head[] = { "ID", "STATE", "INSTANCE", "WORKER",
		"CRASHES", "ERROR" };
	struct hq_table *t = hq_table_create(HQ_ARRAY_LEN(head));
	char id[24], inst[24], worker[24], crashes[24];
	const char *cells[HQ_ARRAY_LEN(head)];
	char *err, *p;
	uint32_t i;

	hq_table_set_header(t, head);
	hq_table_right(t, 0);
	hq_table_right(t, 2);
	hq_table_right(t, 3);
	hq_table_right(t, 4);
	fprintf(r->out, "job %" PRIu32 " \"%s\": %s, %" PRIu32 " task%s%s\n",
	    job->id, job->name, hq_job_state_name(hq_job_state(job)),
	    job->ntasks, replay_plural(job->ntasks),
	    job->is_open ? ", open" : "");
	for (i = 0; i < job->ntasks; i++) {
		const struct hq_task *tk = &job->tasks[i];
		const char *e = hq_job_task_error(job, i);

		snprintf(id, sizeof id, "%" PRIu32, tk->id);
		if (tk->flags & HQ_TF_INSTANCED)
			snprintf(inst, sizeof inst, "%" PRIu32, tk->instance);
		else
			snprintf(inst, sizeof inst, "-");
		if (replay_task_worker(tk))
			snprintf(worker, sizeof worker, "%" PRIu32, tk->worker);
		else
			snprintf(worker, sizeof worker, "-");
		snprintf(crashes, sizeof crashes, "%u", tk->crashes);
		/* One line per task: the table keeps '\n' as extra lines. */
		err = hq_xstrdup(e ? e : "");
		for (p = err; *p != '\0'; p++)
			if ((unsigned char)*p < 0x20)
				*p = ' ';
		cells[0] = id;
		cells[1] = (tk->flags & HQ_TF_ASSIGNED)
		    ? "waiting (assigned)"
		    : hq_task_state_name((enum hq_task_state)tk->state);
		cells[2] = inst;
		cells[3] = worker;
		cells[4] = crashes;
		cells[5] = err;
		hq_table_add_row(t, cells);
		free(err);
	}
	if (job->ntasks > 0)
		hq_table_print(t, r->out, false);
	hq_table_destroy(t);
}

struct replay_tscan {
	uint64_t at;
	uint64_t stop; /* last seq at or before 'at' */
	bool found;
};

static int
replay_tscan_cb(uint64_t seq, const void *rec, size_t len, void *arg)
{
	struct replay_tscan *t = arg;
	struct hq_event ev;
	bool later;

	/* An undecodable record is left for the walk to report. */
	if (hq_wire_decode_event(rec, len, &ev, NULL) != 0)
		return 0;
	later = ev.time_ms > t->at;
	hq_event_fini(&ev);
	if (!later)
		return 0;
	t->stop = seq - 1;
	t->found = true;
	return REPLAY_STOP;
}

/*
 * The seq of the state at time 'at': the record before the first one later
 * than 'at' (UINT64_MAX: none is later). Decodes without applying, so
 * that the walk can start from the newest checkpoint before that seq.
 */
static int
replay_time_to_seq(struct replay *r, uint64_t at, uint64_t *seq)
{
	struct replay_tscan t = { .at = at };
	int rc;

	replay_in_journal = 1;
	rc = hq_journal_foreach(r->j, 0, UINT64_MAX, replay_tscan_cb, &t);
	replay_in_journal = 0;
	if (rc < 0) {
		fprintf(stderr, "hq-replay: %s: reading records: %s\n", r->path,
		    hq_strerror(rc));
		return REPLAY_EXIT_BAD;
	}
	*seq = t.found ? t.stop : UINT64_MAX;
	return 0;
}

static int
replay_cmd_state(struct replay *r)
{
	struct hq_errbuf eb = { { 0 } };
	const struct hq_job *job = NULL;
	uint64_t want = UINT64_MAX, cseq = 0;
	char tbuf[48];
	int rc;

	if (r->has_at && r->at_is_seq)
		want = r->at;
	if (replay_pruned(r) || r->from_ckpt) {
		/* Start from the newest checkpoint at or before the moment. */
		if (r->has_at && !r->at_is_seq &&
		    (rc = replay_time_to_seq(r, r->at, &want)) != 0)
			return rc;
		if (replay_load_ckpts(r, &eb) != 0 ||
		    replay_pick_base(r, true, want, &cseq, &eb) != 0 ||
		    replay_restore(r, cseq, &eb) != 0) {
			if (r->has_at && !r->at_is_seq && want != UINT64_MAX)
				fprintf(stderr,
				    "hq-replay: %s: no state at that time (it "
				    "would be the one after seq %" PRIu64
				    "): %s\n",
				    r->path, want, eb.msg);
			else if (want != UINT64_MAX)
				fprintf(stderr,
				    "hq-replay: %s: no state after seq %" PRIu64
				    ": %s\n",
				    r->path, want, eb.msg);
			else
				fprintf(stderr, "hq-replay: %s: %s\n", r->path,
				    eb.msg);
			return REPLAY_EXIT_BAD;
		}
	}
	r->on_event = replay_state_cb;
	r->stop_on_bad = true;
	r->next_seq = cseq + 1; /* a gap right after the base is damage */
	if ((rc = replay_walk(r, cseq + 1, want)) != 0)
		return rc;
	if (r->n_bad > 0) {
		fprintf(stderr,
		    "hq-replay: %s: seq %" PRIu64 ": %s; the state after seq "
		    "%" PRIu64 " cannot be rebuilt\n",
		    r->path, r->first_bad, r->bad_msg, r->st_seq);
		return REPLAY_EXIT_BAD;
	}
	if (r->has_at && r->at_is_seq && r->at > r->js.last_seq)
		fprintf(stderr,
		    "hq-replay: %s: seq %" PRIu64 " is past the last record "
		    "(%" PRIu64 "); showing the newest state\n",
		    r->path, r->at, r->js.last_seq);
	if (r->has_job && (job = hq_state_job(r->st, r->job)) == NULL) {
		fprintf(stderr,
		    "hq-replay: %s: job %" PRIu32 " does not exist at seq "
		    "%" PRIu64 "\n",
		    r->path, r->job, r->st_seq);
		return REPLAY_EXIT_BAD;
	}
	if (r->json) {
		replay_state_print_json(r, job);
		return REPLAY_EXIT_OK;
	}
	if (r->st_seq == 0) {
		fputs("state before the first record\n", r->out);
	} else {
		if (r->st_time_ms != 0)
			replay_fmt_time(tbuf, sizeof tbuf, r->st_time_ms);
		else
			snprintf(tbuf, sizeof tbuf, "time pruned");
		fprintf(r->out, "state at seq %" PRIu64 " (%s), ", r->st_seq,
		    tbuf);
		if (r->base_seq > 0)
			fprintf(r->out,
			    "from the checkpoint at seq %" PRIu64
			    " and %" PRIu64 " event%s after it",
			    r->base_seq, r->n_applied,
			    replay_plural(r->n_applied));
		else
			fprintf(r->out, "%" PRIu64 " events applied",
			    r->n_applied);
		fputs(", server uid ", r->out);
		replay_put_text(r->out, r->st->server_uid);
		fputc('\n', r->out);
	}
	if (job != NULL)
		replay_state_print_tasks(r, job);
	else
		replay_state_print_jobs(r);
	return REPLAY_EXIT_OK;
}

/* ---- verify -------------------------------------------------------------- */

/* Note a bad checkpoint: the first one is kept, the first few are shown. */
static void HQ_PRINTF(3, 4)
    verify_ckpt_bad(struct replay *r, uint64_t seq, const char *fmt, ...)
{
	char msg[sizeof r->ckpt_msg];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (r->n_ckpt_bad++ == 0) {
		r->first_bad_ckpt = seq;
		snprintf(r->ckpt_msg, sizeof r->ckpt_msg, "%s", msg);
	}
	if (r->n_ckpt_bad <= REPLAY_MAX_WARN)
		fprintf(r->out, "checkpoint at seq %" PRIu64 ": BAD: %s\n", seq,
		    msg);
}

static const char *
verify_str(const char *s)
{
	return s != NULL ? s : "";
}

/*
 * Where two states differ, in words, for the first difference found among
 * the parts a reader can name (counters, jobs, tasks, workers); "" when
 * these all agree and the difference lies deeper (queues, accounting).
 */
static void
verify_diff_hint(const struct hq_state *a, const struct hq_state *b, char *buf,
    size_t size)
{
	uint32_t i, k, n;

	buf[0] = '\0';
#define HINT(...) snprintf(buf, size, "; " __VA_ARGS__)
	if (strcmp(verify_str(a->server_uid), verify_str(b->server_uid)) != 0) {
		HINT("server uid: stored %s, rebuilt %s",
		    verify_str(a->server_uid), verify_str(b->server_uid));
		return;
	}
	if (a->nevents != b->nevents) {
		HINT("events applied: stored %" PRIu64 ", rebuilt %" PRIu64,
		    a->nevents, b->nevents);
		return;
	}
	if (a->next_job_id != b->next_job_id ||
	    a->next_worker_id != b->next_worker_id) {
		HINT("next job/worker id: stored %" PRIu32 "/%" PRIu32
		     ", rebuilt %" PRIu32 "/%" PRIu32,
		    a->next_job_id, a->next_worker_id, b->next_job_id,
		    b->next_worker_id);
		return;
	}
	n = HQ_MAX(a->jobs_cap, b->jobs_cap);
	for (i = 1; i < n; i++) {
		const struct hq_job *x = hq_state_job(a, i);
		const struct hq_job *y = hq_state_job(b, i);

		if (x == NULL && y == NULL)
			continue;
		if (x == NULL || y == NULL) {
			HINT("job %" PRIu32 " only in the %s state", i,
			    x ? "stored" : "rebuilt");
			return;
		}
		if (x->ntasks != y->ntasks || x->is_open != y->is_open ||
		    memcmp(x->counts, y->counts, sizeof x->counts) != 0) {
			HINT("job %" PRIu32 ": stored %" PRIu32
			     " tasks (%" PRIu32 " finished), rebuilt %" PRIu32
			     " (%" PRIu32 " finished)",
			    i, x->ntasks, x->counts[HQ_TASK_FINISHED],
			    y->ntasks, y->counts[HQ_TASK_FINISHED]);
			return;
		}
		for (k = 0; k < x->ntasks; k++) {
			const struct hq_task *t = &x->tasks[k];
			const struct hq_task *u = &y->tasks[k];

			if (t->id == u->id && t->state == u->state &&
			    t->instance == u->instance &&
			    t->worker == u->worker &&
			    t->crashes == u->crashes && t->flags == u->flags &&
			    t->start_ms == u->start_ms &&
			    t->end_ms == u->end_ms)
				continue;
			HINT("job %" PRIu32 " task %" PRIu32
			     ": stored %s instance %" PRIu32 " worker %" PRIu32
			     " flags %#x, rebuilt %s instance %" PRIu32
			     " worker %" PRIu32 " flags %#x",
			    i, t->id,
			    hq_task_state_name((enum hq_task_state)t->state),
			    t->instance, t->worker, t->flags,
			    hq_task_state_name((enum hq_task_state)u->state),
			    u->instance, u->worker, u->flags);
			return;
		}
	}
	n = HQ_MAX(a->workers_cap, b->workers_cap);
	for (i = 1; i < n; i++) {
		const struct hq_sworker *x = hq_state_worker(a, i);
		const struct hq_sworker *y = hq_state_worker(b, i);

		if (x == NULL && y == NULL)
			continue;
		if (x == NULL || y == NULL || x->online != y->online ||
		    x->ninflight != y->ninflight) {
			HINT("worker %" PRIu32 ": stored %s, rebuilt %s", i,
			    x == NULL	    ? "absent"
				: x->online ? "online"
					    : "offline",
			    y == NULL	    ? "absent"
				: y->online ? "online"
					    : "offline");
			return;
		}
	}
#undef HINT
}

/*
 * Compare the checkpoint stored at 'seq' with r->st, the state rebuilt up
 * to that seq: they must be the same bytes.
 */
static void
verify_compare(struct replay *r, uint64_t seq, const char *what)
{
	struct hq_errbuf eb = { { 0 } };
	struct hq_state *stored = NULL;
	uint8_t *data = NULL;
	size_t len = 0, off;
	char hint[256];
	struct hq_buf b;
	int rc;

	if ((rc = replay_get_ckpt(r, seq, &data, &len)) != 0) {
		if (rc == HQ_ENOTFOUND)
			r->n_ckpt_skipped++; /* pruned by the server meanwhile
					      */
		else
			verify_ckpt_bad(r, seq, "cannot be read: %s",
			    hq_strerror(rc));
		return;
	}
	hq_buf_init(&b);
	hq_state_snapshot(r->st, &b);
	if (b.len == len && memcmp(b.data, data, len) == 0) {
		r->n_ckpt_same++;
		goto out;
	}
	for (off = 0; off < len && off < b.len && data[off] == b.data[off];
	     off++)
		;
	if (hq_state_restore(data, len, &stored, &eb) != 0)
		snprintf(hint, sizeof hint, "; it cannot be restored: %.200s",
		    eb.msg);
	else
		verify_diff_hint(stored, r->st, hint, sizeof hint);
	verify_ckpt_bad(r, seq,
	    "differs from %s (stored %zu bytes, rebuilt %zu, first "
	    "difference at byte %zu)%s",
	    what, len, b.len, off, hint);
out:
	hq_state_destroy(stored);
	hq_buf_fini(&b);
	free(data);
}

static int
replay_verify_cb(struct replay *r, uint64_t seq, const struct hq_event *ev,
    HQ_UNUSED size_t len)
{
	if (replay_apply(r, seq, ev) != 0)
		return REPLAY_STOP;
	if (r->st != NULL && r->ckpt_next < r->nckpts &&
	    r->ckpts[r->ckpt_next] == seq) {
		verify_compare(r, seq, "the state rebuilt from the log");
		r->ckpt_next++;
	}
	return 0;
}

/*
 * Pick and restore the base of the replay: the empty state, or for pruned
 * history the oldest checkpoint after the pruned part. That checkpoint
 * cannot be compared with a replay; it must at least restore, and encode
 * back to the same bytes. Returns false if verify has failed.
 */
static bool
verify_base(struct replay *r)
{
	struct hq_errbuf eb = { { 0 } };
	uint64_t cseq = 0, hb = replay_hist_base(r);

	if (!replay_pruned(r)) {
		fputs("base: the empty state before seq 1 (complete history)\n",
		    r->out);
		return true;
	}
	if (replay_pick_base(r, false, UINT64_MAX, &cseq, &eb) != 0 ||
	    replay_restore(r, cseq, &eb) != 0) {
		fprintf(r->out,
		    "base: BAD: %s; records are decoded, not "
		    "applied\n",
		    eb.msg);
		if (cseq != 0 && r->n_ckpt_bad++ == 0)
			r->first_bad_ckpt = cseq;
		hq_state_destroy(r->st);
		r->st = NULL;
		return false;
	}
	fprintf(r->out,
	    "base: the checkpoint at seq %" PRIu64 " (history before seq "
	    "%" PRIu64 " was pruned)\n",
	    cseq, hb + 1);
	verify_compare(r, cseq, "itself restored and encoded again");
	return r->n_ckpt_bad == 0;
}

/* The summary line of the checkpoints; false if one is bad. */
static bool
verify_ckpt_summary(struct replay *r)
{
	uint64_t left = r->nckpts - r->ckpt_next;

	if (r->ckpts_unreadable) {
		fprintf(r->out, "checkpoints: BAD: %s; none compared\n",
		    r->ckpt_msg);
		return false;
	}
	if (r->nckpts == 0) {
		fputs("checkpoints: none\n", r->out);
		return true;
	}
	if (r->st != NULL && r->n_bad == 0 && left > 0) {
		/* Every record was applied: these lie past the last one. */
		for (; r->ckpt_next < r->nckpts; r->ckpt_next++)
			verify_ckpt_bad(r, r->ckpts[r->ckpt_next], "%s",
			    "no record has its seq");
		left = 0;
	}
	fprintf(r->out,
	    "checkpoints: %" PRIu32 ", %" PRIu64 " identical to "
	    "the state rebuilt from the log",
	    r->nckpts, r->n_ckpt_same);
	if (r->base_seq > 0)
		fputs(" (the base: to itself)", r->out);
	if (r->n_ckpt_bad > 0)
		fprintf(r->out,
		    ", %" PRIu64 " BAD (the first at seq %" PRIu64 ")",
		    r->n_ckpt_bad, r->first_bad_ckpt);
	if (r->n_ckpt_skipped > 0)
		fprintf(r->out,
		    ", %" PRIu64 " not compared (older than the "
		    "kept history, or pruned while reading)",
		    r->n_ckpt_skipped);
	if (left > 0)
		fprintf(r->out, ", %" PRIu64 " not compared (%s)", left,
		    r->st == NULL ? "no state to replay from"
				  : "the replay stopped before them");
	fputc('\n', r->out);
	return r->n_ckpt_bad == 0;
}

static int
replay_cmd_verify(struct replay *r)
{
	struct hq_errbuf eb = { { 0 } };
	uint64_t bad_chain = 0, first = 0;
	bool failed = false;
	int rc;

	fprintf(r->out,
	    "journal: %s, %" PRIu64 " record%s (seq %" PRIu64 "..%" PRIu64
	    "), %" PRIu64 " commit%s\n",
	    r->path, r->js.n_records, replay_plural(r->js.n_records),
	    r->js.first_seq, r->js.last_seq, r->js.n_commits,
	    replay_plural(r->js.n_commits));
	replay_in_journal = 1;
	rc = hq_journal_verify_chain(r->j, &bad_chain, &eb);
	replay_in_journal = 0;
	if (rc == 0) {
		fputs("chain: ok\n", r->out);
	} else if (rc == HQ_ECORRUPT) {
		fprintf(r->out, "chain: BAD at seq %" PRIu64 ": %s\n",
		    bad_chain, eb.msg);
		first = bad_chain;
		failed = true;
	} else {
		fprintf(r->out, "chain: cannot check: %s\n",
		    eb.msg[0] ? eb.msg : hq_strerror(rc));
		failed = true;
	}

	if (replay_load_ckpts(r, &eb) != 0) {
		/* Go on with the records: their replay can still be judged. */
		snprintf(r->ckpt_msg, sizeof r->ckpt_msg, "%s", eb.msg);
		r->ckpts_unreadable = true;
		r->nckpts = 0;
		failed = true;
	}
	if (!verify_base(r))
		failed = true;
	/* Checkpoints up to the base are not compared with a replay. */
	while (
	    r->ckpt_next < r->nckpts && r->ckpts[r->ckpt_next] <= r->base_seq) {
		if (r->ckpts[r->ckpt_next] < r->base_seq)
			r->n_ckpt_skipped++; /* older than the kept history */
		r->ckpt_next++;
	}

	r->on_event = replay_verify_cb;
	r->stop_on_bad = true;
	if ((rc = replay_walk(r, 0, UINT64_MAX)) != 0)
		return rc;
	if (r->n_bad > 0) {
		fprintf(r->out, "replay: BAD at seq %" PRIu64 ": %s\n",
		    r->first_bad, r->bad_msg);
		if (first == 0 || r->first_bad < first)
			first = r->first_bad;
		failed = true;
	} else if (r->st != NULL) {
		fprintf(r->out,
		    "replay: ok, %" PRIu64 " records decoded, %" PRIu64
		    " applied\n",
		    r->n_decoded, r->n_applied);
	} else {
		fprintf(r->out, "replay: ok, %" PRIu64 " records decoded\n",
		    r->n_decoded);
	}
	if (r->n_bad == 0 && r->n_seen != r->js.n_records)
		fprintf(r->out,
		    "note: %" PRIu64 " records read, %" PRIu64 " counted "
		    "before (a server is appending)\n",
		    r->n_seen, r->js.n_records);

	if (!verify_ckpt_summary(r))
		failed = true;
	if (!failed) {
		fputs("verify: ok\n", r->out);
		return REPLAY_EXIT_OK;
	}
	if (first != 0)
		fprintf(r->out,
		    "verify: FAILED, first bad record: seq %" PRIu64 "\n",
		    first);
	else if (r->n_ckpt_bad > 0)
		fprintf(r->out,
		    "verify: FAILED, first bad checkpoint: seq %" PRIu64 "\n",
		    r->first_bad_ckpt);
	else
		fputs("verify: FAILED\n", r->out);
	return REPLAY_EXIT_BAD;
}

/* ---- stats --------------------------------------------------------------- */

static size_t
replay_kind_index(const struct hq_event *ev)
{
	const char *name = hq_event_kind_name(ev);
	size_t i;

	for (i = 0; i < REPLAY_NKINDS - 1; i++)
		if (strcmp(replay_kinds[i], name) == 0)
			return i;
	return REPLAY_NKINDS - 1;
}

static int
replay_stats_cb(struct replay *r, HQ_UNUSED uint64_t seq,
    const struct hq_event *ev, size_t len)
{
	struct replay_kind_stat *k = &r->kinds[replay_kind_index(ev)];

	k->events++;
	k->bytes += len;
	if (ev->kind == HQ_EV_TASK_RUN)
		k->tasks += ev->u.run.n;
	else if (ev->kind == HQ_EV_JOB_SUBMITTED)
		k->tasks += ev->u.submitted.submit.graph
		    ? ev->u.submitted.submit.ntasks
		    : hq_idset_count(&ev->u.submitted.submit.ids);
	else if (ev->kind == HQ_EV_TASK_FAILED)
		k->tasks++;
	return 0;
}

static bool
replay_kind_has_tasks(size_t i)
{
	return strncmp(replay_kinds[i], "task-", 5) == 0 ||
	    strcmp(replay_kinds[i], "job-created") == 0;
}

static void
replay_stats_json(struct replay *r)
{
	json_t *kinds = json_object(), *o;
	size_t i;

	for (i = 0; i < REPLAY_NKINDS; i++) {
		o = json_pack("{s:I, s:I}", "events",
		    (json_int_t)r->kinds[i].events, "bytes",
		    (json_int_t)r->kinds[i].bytes);
		if (replay_kind_has_tasks(i))
			json_object_set_new(o, "tasks",
			    json_integer((json_int_t)r->kinds[i].tasks));
		json_object_set_new(kinds, replay_kinds[i], o);
	}
	o = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o, "
		      "s:o, s:I, s:o}",
	    "path", r->path, "file_bytes", (json_int_t)r->js.file_bytes,
	    "records", (json_int_t)r->js.n_records, "first_seq",
	    (json_int_t)r->js.first_seq, "last_seq", (json_int_t)r->js.last_seq,
	    "record_bytes", (json_int_t)r->js.record_bytes, "commits",
	    (json_int_t)r->js.n_commits, "checkpoints",
	    (json_int_t)r->js.n_checkpoints, "last_checkpoint_seq",
	    (json_int_t)r->js.last_checkpoint_seq, "first_time",
	    r->n_decoded ? replay_json_time(r->first_time_ms) : json_null(),
	    "last_time",
	    r->n_decoded ? replay_json_time(r->last_time_ms) : json_null(),
	    "undecodable", (json_int_t)r->n_bad, "events", kinds);
	json_dumpf(o, r->out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', r->out);
	json_decref(o);
}

static void
replay_stats_human(struct replay *r)
{
	static const char *const head[] = { "EVENT", "EVENTS", "TASKS",
		"BYTES" };
	struct hq_table *t = hq_table_create(HQ_ARRAY_LEN(head));
	char ev[24], tasks[24], bytes[24], t0[48], t1[48];
	const char *cells[HQ_ARRAY_LEN(head)];
	struct hq_buf b;
	size_t i;

	hq_buf_init(&b);
	hq_fmt_size(&b, r->js.file_bytes);
	fprintf(r->out, "journal      %s\n", r->path);
	fprintf(r->out, "file size    %s (%" PRIu64 " bytes)\n",
	    (const char *)b.data, r->js.file_bytes);
	fprintf(r->out,
	    "records      %" PRIu64 " (seq %" PRIu64 "..%" PRIu64 "), %" PRIu64
	    " bytes, %" PRIu64 " commit%s\n",
	    r->js.n_records, r->js.first_seq, r->js.last_seq,
	    r->js.record_bytes, r->js.n_commits,
	    replay_plural(r->js.n_commits));
	if (r->n_decoded > 0) {
		hq_buf_reset(&b);
		hq_fmt_duration(&b,
		    r->last_time_ms >= r->first_time_ms
			? r->last_time_ms - r->first_time_ms
			: 0);
		replay_fmt_time(t0, sizeof t0, r->first_time_ms);
		replay_fmt_time(t1, sizeof t1, r->last_time_ms);
		fprintf(r->out, "time span    %s .. %s (%s)\n", t0, t1,
		    (const char *)b.data);
	}
	if (r->js.n_checkpoints > 0)
		fprintf(r->out,
		    "checkpoints  %" PRIu64 ", the newest at seq %" PRIu64 "\n",
		    r->js.n_checkpoints, r->js.last_checkpoint_seq);
	else
		fputs("checkpoints  none\n", r->out);
	if (r->n_bad > 0)
		fprintf(r->out,
		    "bad records  %" PRIu64 ", the first at seq %" PRIu64 "\n",
		    r->n_bad, r->first_bad);
	hq_buf_fini(&b);

	hq_table_set_header(t, head);
	hq_table_right(t, 1);
	hq_table_right(t, 2);
	hq_table_right(t, 3);
	for (i = 0; i < REPLAY_NKINDS; i++) {
		if (r->kinds[i].events == 0)
			continue;
		snprintf(ev, sizeof ev, "%" PRIu64, r->kinds[i].events);
		snprintf(bytes, sizeof bytes, "%" PRIu64, r->kinds[i].bytes);
		if (replay_kind_has_tasks(i))
			snprintf(tasks, sizeof tasks, "%" PRIu64,
			    r->kinds[i].tasks);
		else
			tasks[0] = '\0';
		cells[0] = replay_kinds[i];
		cells[1] = ev;
		cells[2] = tasks;
		cells[3] = bytes;
		hq_table_add_row(t, cells);
	}
	if (r->n_decoded > 0)
		hq_table_print(t, r->out, false);
	hq_table_destroy(t);
}

static int
replay_cmd_stats(struct replay *r)
{
	int rc;

	r->on_event = replay_stats_cb;
	if ((rc = replay_walk(r, 0, UINT64_MAX)) != 0)
		return rc;
	if (r->json)
		replay_stats_json(r);
	else
		replay_stats_human(r);
	return r->n_bad > 0 ? REPLAY_EXIT_BAD : REPLAY_EXIT_OK;
}

/* ---- command line -------------------------------------------------------- */

static const struct replay_cmd replay_cmds[] = {
	{
	    .name = "events",
	    .synopsis = "[--job ID [--task ID]] [--since TIME] [--until TIME] "
			"[--json]",
	    .help = "the history of the journal, a job or a task",
	    .opts = RO_JOB | RO_TASK | RO_RANGE | RO_JSON,
	    .exec = replay_cmd_events,
	},
	{
	    .name = "state",
	    .synopsis = "[--at TIME|SEQ] [--job ID] [--from-checkpoint] "
			"[--json]",
	    .help = "the jobs (or one job's tasks) as they were at a moment",
	    .opts = RO_JOB | RO_AT | RO_CKPT | RO_JSON,
	    .exec = replay_cmd_state,
	},
	{
	    .name = "verify",
	    .synopsis = "",
	    .help = "check the hash chain, replay every record and compare "
		    "the state with every checkpoint",
	    .opts = 0,
	    .exec = replay_cmd_verify,
	},
	{
	    .name = "stats",
	    .synopsis = "[--json]",
	    .help = "events per kind, sizes, time span",
	    .opts = RO_JSON,
	    .exec = replay_cmd_stats,
	},
};

static void
replay_usage(FILE *out, const struct replay_cmd *only)
{
	size_t i;

	fputs("Usage:\n", out);
	for (i = 0; i < HQ_ARRAY_LEN(replay_cmds); i++) {
		const struct replay_cmd *c = &replay_cmds[i];

		if (only != NULL && c != only)
			continue;
		fprintf(out, "  hq-replay %s JOURNAL%s%s\n", c->name,
		    *c->synopsis ? " " : "", c->synopsis);
		fprintf(out, "      %s\n", c->help);
	}
	if (only == NULL)
		fputs("  hq-replay --help | COMMAND --help\n", out);
	fputs("TIME is RFC 3339 (2026-11-25T17:00:00Z) or seconds since the "
	      "epoch (1795626000,\n@1795626000); for --at, \"seq:N\" or a bare "
	      "integer is a SEQ.\nThe journal is opened read-only; a running "
	      "server may keep writing it.\nSee "
	      "docs/hq-replay.md.\n",
	    out);
}

static int HQ_PRINTF(2, 3)
    replay_usage_error(const struct replay_cmd *c, const char *fmt, ...)
{
	va_list ap;

	fputs("hq-replay: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fprintf(stderr, "Try 'hq-replay %s%s--help'.\n", c ? c->name : "",
	    c ? " " : "");
	return REPLAY_EXIT_USAGE;
}

/*
 * Parse the arguments after the command name. Returns -1 on success,
 * otherwise the exit status (0 after --help).
 */
static int
replay_parse_args(struct replay *r, int argc, char **argv)
{
	const struct replay_cmd *c = r->cmd;
	struct hq_errbuf eb = { { 0 } };
	bool opts_done = false;
	const char *name, *val;
	char opt[32];
	int i;

	for (i = 0; i < argc; i++) {
		const char *a = argv[i], *eq;
		unsigned need;

		if (opts_done || a[0] != '-' || a[1] == '\0') {
			if (r->path != NULL)
				return replay_usage_error(c,
				    "unexpected argument '%s'", a);
			r->path = a;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			opts_done = true;
			continue;
		}
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			replay_usage(stdout, c);
			return REPLAY_EXIT_OK;
		}
		if (strcmp(a, "--json") == 0) {
			if (!(c->opts & RO_JSON))
				return replay_usage_error(c,
				    "option '%s' does not apply here", a);
			r->json = true;
			continue;
		}
		if (strcmp(a, "--from-checkpoint") == 0) {
			if (!(c->opts & RO_CKPT))
				return replay_usage_error(c,
				    "option '%s' does not apply here", a);
			r->from_ckpt = true;
			continue;
		}
		/* Options with a value: --opt VALUE or --opt=VALUE. */
		eq = strchr(a, '=');
		snprintf(opt, sizeof opt, "%.*s",
		    (int)(eq ? (size_t)(eq - a) : strlen(a)), a);
		name = opt;
		if (strcmp(name, "--job") == 0)
			need = RO_JOB;
		else if (strcmp(name, "--task") == 0)
			need = RO_TASK;
		else if (strcmp(name, "--since") == 0 ||
		    strcmp(name, "--until") == 0)
			need = RO_RANGE;
		else if (strcmp(name, "--at") == 0)
			need = RO_AT;
		else
			return replay_usage_error(c, "unknown option '%s'", a);
		if (!(c->opts & need))
			return replay_usage_error(c,
			    "option '%s' does not apply here", name);
		if (eq != NULL)
			val = eq + 1;
		else if (i + 1 < argc)
			val = argv[++i];
		else
			return replay_usage_error(c,
			    "option '%s' needs a value", name);
		if (need == RO_JOB) {
			if (hq_parse_u32(val, &r->job, &eb) != 0)
				goto bad_value;
			r->has_job = true;
		} else if (need == RO_TASK) {
			if (hq_parse_u32(val, &r->task, &eb) != 0)
				goto bad_value;
			r->has_task = true;
		} else if (strcmp(name, "--since") == 0) {
			if (replay_parse_time(val, &r->since_ms, &eb) != 0)
				goto bad_value;
		} else if (strcmp(name, "--until") == 0) {
			if (replay_parse_time(val, &r->until_ms, &eb) != 0)
				goto bad_value;
		} else {
			if (replay_parse_at(r, val, &eb) != 0)
				goto bad_value;
			r->has_at = true;
		}
	}
	if (r->path == NULL)
		return replay_usage_error(c, "%s", "missing JOURNAL");
	if (r->has_task && !r->has_job)
		return replay_usage_error(c, "%s",
		    "--task needs --job (task ids are per job)");
	if (r->since_ms > r->until_ms)
		return replay_usage_error(c, "%s", "--since is after --until");
	return -1;
bad_value:
	fprintf(stderr, "hq-replay: %s: %s\n", name, eb.msg);
	return REPLAY_EXIT_USAGE;
}

int
main(int argc, char **argv)
{
	struct hq_journal_opts jo = { .map_size = 0, .readonly = true };
	struct hq_errbuf eb = { { 0 } };
	struct replay r;
	size_t i;
	int rc;

	memset(&r, 0, sizeof r);
	r.until_ms = UINT64_MAX;
	r.out = stdout;
	if (argc < 2) {
		replay_usage(stderr, NULL);
		return REPLAY_EXIT_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		replay_usage(stdout, NULL);
		return REPLAY_EXIT_OK;
	}
	for (i = 0; i < HQ_ARRAY_LEN(replay_cmds); i++)
		if (strcmp(argv[1], replay_cmds[i].name) == 0)
			r.cmd = &replay_cmds[i];
	if (r.cmd == NULL)
		return replay_usage_error(NULL, "unknown command '%s'",
		    argv[1]);
	if ((rc = replay_parse_args(&r, argc - 2, argv + 2)) >= 0)
		return rc;

	replay_fault_setup(r.path);
	replay_in_journal = 1;
	if ((rc = hq_journal_open(r.path, &jo, &r.j, &eb)) != 0) {
		fprintf(stderr, "hq-replay: %s\n",
		    eb.msg[0] ? eb.msg : hq_strerror(rc));
		return REPLAY_EXIT_BAD;
	}
	if ((rc = hq_journal_stat(r.j, &r.js)) != 0) {
		fprintf(stderr, "hq-replay: %s: %s\n", r.path, hq_strerror(rc));
		hq_journal_close(r.j);
		return REPLAY_EXIT_BAD;
	}
	replay_in_journal = 0;
	r.st = hq_state_create();
	rc = r.cmd->exec(&r);
	hq_state_destroy(r.st);
	free(r.ckpts);
	replay_in_journal = 1;
	hq_journal_close(r.j);
	replay_in_journal = 0;
	if (fflush(stdout) != 0 || ferror(stdout) || r.out_failed) {
		fprintf(stderr, "hq-replay: writing the output: %s\n",
		    strerror(errno ? errno : EIO));
		return REPLAY_EXIT_BAD;
	}
	return rc;
}
