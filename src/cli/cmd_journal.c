/* SPDX-License-Identifier: MIT */
/*
 * `hq journal`: export (offline, read-only), stream and replay (NDJSON
 * from the server), prune and flush (server commands).
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/evjson.h"
#include "common/fmt.h"
#include "common/log.h"
#include "journal/journal.h"
#include "server/snapshot.h"
#include "server/state.h"

static const struct hq_opt no_opts[] = {
	{ NULL, 0, 0, NULL, NULL },
};

/* ---- faults inside LMDB ------------------------------------------------- */

/*
 * LMDB keeps no page checksums: a file damaged inside a page can make it
 * read outside the map (SIGSEGV/SIGBUS). While the journal library runs,
 * such a fault is reported as damage (exit 1); anywhere else the default
 * action applies, so bugs of ours still dump core.
 */
static volatile sig_atomic_t journal_in_lmdb;
static char journal_fault_msg[768];
static size_t journal_fault_len;

static void
journal_fault_cb(HQ_UNUSED int sig)
{
	ssize_t n;

	if (journal_in_lmdb) {
		n = write(STDERR_FILENO, journal_fault_msg, journal_fault_len);
		(void)n;
		_exit(1);
	}
	/* SA_RESETHAND restored the default: the fault repeats and kills. */
}

static void
journal_fault_setup(const char *path)
{
	struct sigaction sa;

	snprintf(journal_fault_msg, sizeof journal_fault_msg,
	    "journal %s is damaged inside its LMDB pages (fault while "
	    "reading it); check it with `hq-replay verify %s`\n",
	    path, path);
	journal_fault_len = strlen(journal_fault_msg);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = journal_fault_cb;
	sa.sa_flags = SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
}

/* ---- reading a journal file ---------------------------------------------- */

struct jwalk;

/*
 * Called per event in seq order, after it was applied; 'st' is the state
 * after it, or NULL when there is none to give (see jwalk_base). Returns 0,
 * 1 to stop quietly, or jwalk_stop()'s value.
 */
typedef int jwalk_fn(struct jwalk *x, uint64_t seq, const struct hq_event *ev,
    const struct hq_state *st);

struct jwalk {
	const char *path;
	struct hq_journal *j;
	struct hq_journal_stat js;
	struct hq_state *st; /* NULL: no instances */
	uint64_t base_seq;   /* st holds every record <= base_seq */
	uint64_t next_seq;   /* expected seq of the next record, 0: any */
	uint64_t until_ms;   /* stop before the first event after this */
	jwalk_fn *fn;
	void *arg;
	int rc; /* why the walk stopped; 0: it did not */
	char msg[sizeof(struct hq_errbuf) + 128];
};

struct jwalk_ckpt {
	uint64_t min_seq;
	uint64_t seq;
	uint8_t *data;
	size_t len;
};

/* The oldest checkpoint at or after min_seq. */
static int
jwalk_ckpt_cb(uint64_t seq, const void *snap, size_t len, void *arg)
{
	struct jwalk_ckpt *k = arg;

	if (seq < k->min_seq)
		return 0;
	k->seq = seq;
	k->data = hq_xmemdup(snap, len > 0 ? len : 1);
	k->len = len;
	return 1;
}

/*
 * The state the walk starts from. A complete history starts from the
 * empty state; pruned history from the oldest checkpoint after the pruned
 * part (records kept from before it get no state: it is a later one).
 * Without a usable checkpoint there is no state: a warning, not an error,
 * since the events themselves are all there.
 */
static void
jwalk_base(struct jwalk *x)
{
	struct jwalk_ckpt k;
	struct hq_errbuf eb;
	uint64_t hb;
	int rc;

	hb = x->js.first_seq > 0 ? x->js.first_seq - 1
				 : x->js.last_checkpoint_seq;
	x->st = hq_state_create();
	if (hb == 0)
		return;
	hq_state_destroy(x->st);
	x->st = NULL;
	memset(&k, 0, sizeof k);
	k.min_seq = hb;
	journal_in_lmdb = 1;
	rc = hq_journal_foreach_checkpoint(x->j, jwalk_ckpt_cb, &k);
	journal_in_lmdb = 0;
	if (rc < 0 || k.data == NULL) {
		hq_warn("journal %s: history before event %" PRIu64 " was "
			"pruned and no checkpoint can stand in for it%s%s; "
			"going on without instances",
		    x->path, hb + 1, rc < 0 ? ": " : "",
		    rc < 0 ? hq_strerror(rc) : "");
		free(k.data);
		return;
	}
	rc = hq_state_restore(k.data, k.len, &x->st, &eb);
	free(k.data);
	if (rc != 0) {
		hq_warn("journal %s: the checkpoint at event %" PRIu64
			" cannot be restored: %s; going on without instances",
		    x->path, k.seq, eb.msg);
		x->st = NULL;
		return;
	}
	x->base_seq = k.seq;
}

static int HQ_PRINTF(3, 4)
    jwalk_stop(struct jwalk *x, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(x->msg, sizeof x->msg, fmt, ap);
	va_end(ap);
	x->rc = rc;
	return -1;
}

static int
jwalk_record_cb(uint64_t seq, const void *rec, size_t len, void *arg)
{
	struct jwalk *x = arg;
	struct hq_errbuf eb = { { 0 } };
	struct hq_event ev;
	int rc;

	if (x->next_seq != 0 && seq != x->next_seq)
		return jwalk_stop(x, HQ_ECORRUPT,
		    "events %" PRIu64 "..%" PRIu64 " are missing", x->next_seq,
		    seq - 1);
	x->next_seq = seq + 1;
	/* 'rec' points into the map: decoding it may still fault. */
	rc = hq_wire_decode_event(rec, len, &ev, &eb);
	journal_in_lmdb = 0;
	if (rc != 0) {
		rc = jwalk_stop(x, HQ_ECORRUPT,
		    "event %" PRIu64 " cannot be decoded (%zu bytes): %s", seq,
		    len, eb.msg);
		goto out;
	}
	if (ev.time_ms > x->until_ms)
		rc = 1;
	else if (x->st != NULL && seq > x->base_seq &&
	    hq_state_apply(x->st, &ev, &eb) != 0)
		rc = jwalk_stop(x, HQ_ECORRUPT,
		    "event %" PRIu64 " (%s) does not apply to the state "
		    "rebuilt from the events before it: %s",
		    seq, hq_event_kind_name(&ev), eb.msg);
	else
		rc = x->fn(x, seq, &ev, seq > x->base_seq ? x->st : NULL);
	hq_event_fini(&ev);
out:
	journal_in_lmdb = 1;
	return rc;
}

/*
 * Open 'path' read-only (a server may be writing it), check its hash chain
 * and call fn for every event, rebuilding the state as it goes. Returns the
 * state after the last event walked (caller owns; hq_state_destroy), NULL if
 * there was none to rebuild. Exits through cli_fail with a message naming the
 * file and the problem: missing, not a journal, truncated, damaged (the first
 * bad event: altered, missing, undecodable, not applicable), unreadable.
 */
static struct hq_state *
jwalk_run(struct cli *c, const char *path, jwalk_fn *fn, void *arg)
{
	struct hq_journal_opts jo = { .map_size = 0, .readonly = true };
	struct hq_errbuf eb = { { 0 } }, inner = { { 0 } };
	struct jwalk x;
	int rc;

	memset(&x, 0, sizeof x);
	x.path = path;
	x.fn = fn;
	x.arg = arg;
	x.until_ms = UINT64_MAX;
	journal_fault_setup(path);
	journal_in_lmdb = 1;
	rc = hq_journal_open(path, &jo, &x.j, &eb);
	if (rc == 0 && (rc = hq_journal_stat(x.j, &x.js)) != 0)
		hq_errf(&eb, rc, "journal %s cannot be read: %s", path,
		    hq_strerror(rc));
	/* Records that still decode can have been altered: only the hash
	 * chain tells. Nothing comes out of a journal that fails it. */
	if (rc == 0 && (rc = hq_journal_verify_chain(x.j, NULL, &inner)) != 0)
		hq_errf(&eb, rc, "%s; check it with `hq-replay verify %s`",
		    inner.msg[0] ? inner.msg : hq_strerror(rc), path);
	journal_in_lmdb = 0;
	if (rc != 0) {
		hq_journal_close(x.j);
		cli_fail(c, "%s", eb.msg[0] ? eb.msg : hq_strerror(rc));
	}
	jwalk_base(&x);
	journal_in_lmdb = 1;
	rc = hq_journal_foreach(x.j, 0, UINT64_MAX, jwalk_record_cb, &x);
	hq_journal_close(x.j);
	journal_in_lmdb = 0;
	if (x.rc != 0 || rc < 0)
		hq_state_destroy(x.st);
	if (x.rc != 0)
		cli_fail(c,
		    "journal %s: %s; check it with `hq-replay verify %s`", path,
		    x.msg, path);
	if (rc < 0)
		cli_fail(c, "journal %s cannot be read: %s", path,
		    hq_strerror(rc));
	return x.st;
}

/* ---- export ------------------------------------------------------------- */

struct jexport {
	FILE *out;
	uint64_t nlines;
};

static int
jexport_event(struct jwalk *x, uint64_t seq, const struct hq_event *ev,
    const struct hq_state *st)
{
	struct jexport *e = x->arg;
	int rc;

	if ((rc = hq_events_to_ndjson(ev, seq, st, e->out)) != 0)
		return jwalk_stop(x, rc,
		    "cannot write the output (after %" PRIu64 " events): %s",
		    e->nlines, hq_strerror(rc));
	e->nlines += hq_event_json_nlines(ev);
	return 0;
}

int
cmd_journal_export(struct cli *c, int argc, char **argv)
{
	struct jexport e = { .out = stdout };
	struct hq_args a;

	cli_parse(c, &a, no_opts, argc, argv, 1, false, "<JOURNAL>",
	    "Export the events of a journal file as NDJSON (offline, "
	    "read-only: a server may be using the file)");
	if (a.npos < 1)
		cli_fail(c,
		    "error: the following required arguments were not "
		    "provided:\n  <JOURNAL>");
	/* NDJSON in every output mode; JSON mode must not add "{}". */
	c->printed = true;
	hq_state_destroy(jwalk_run(c, a.pos[0], jexport_event, &e));
	if (fflush(stdout) != 0)
		cli_fail(c, "cannot write the output: %s", strerror(errno));
	hq_info("Outputted %" PRIu64 " event(s)", e.nlines);
	hq_args_fini(&a);
	return 0;
}

/* ---- report ------------------------------------------------------------- */

/* Columns of the timeline chart: its width in pixels. */
#define REPORT_COLS   900
#define REPORT_HEIGHT 200
/* Rows of the job table, beyond which the rest are only counted. */
#define REPORT_MAX_JOBS 1000

struct jreport_kind {
	const char *name; /* static, from hq_event_kind_name() */
	uint64_t events, tasks;
};

/* The timeline: running tasks and online workers after an event. */
struct jreport_point {
	uint64_t t;
	uint32_t running, workers;
};

struct jreport_worker {
	uint32_t id;
	uint64_t started; /* tasks started on it */
};

struct jreport {
	uint64_t start_off, end_off; /* --start-time, --end-time */
	bool has_end;
	bool have_t0;
	uint64_t t0; /* the first record: the server start, unless pruned */
	uint64_t from_ms, to_ms; /* the window, absolute */
	uint64_t last_ms;	 /* of the last event inside it */
	uint64_t nevents;
	struct jreport_kind kinds[16];
	uint32_t nkinds;
	struct jreport_worker *workers; /* few: a list */
	uint32_t nworkers, wcap;
	struct jreport_point *pts;
	uint32_t npts, ptscap;
};

static void
jreport_count(struct jreport *r, const struct hq_event *ev)
{
	const char *name = hq_event_kind_name(ev);
	uint64_t tasks = 0;
	uint32_t i;

	if (ev->kind == HQ_EV_TASK_RUN)
		tasks = ev->u.run.n;
	else if (ev->kind == HQ_EV_TASK_FAILED)
		tasks = 1;
	else if (ev->kind == HQ_EV_JOB_SUBMITTED)
		tasks = ev->u.submitted.submit.graph
		    ? ev->u.submitted.submit.ntasks
		    : hq_idset_count(&ev->u.submitted.submit.ids);
	for (i = 0; i < r->nkinds; i++)
		if (strcmp(r->kinds[i].name, name) == 0)
			break;
	if (i == r->nkinds) {
		if (r->nkinds == HQ_ARRAY_LEN(r->kinds))
			return;
		r->kinds[r->nkinds++].name = name;
	}
	r->kinds[i].events++;
	r->kinds[i].tasks += tasks;
}

static void
jreport_count_started(struct jreport *r, uint32_t id, uint64_t n)
{
	struct jreport_worker w = { .id = id, .started = n };
	uint32_t i;

	for (i = 0; i < r->nworkers; i++)
		if (r->workers[i].id == id) {
			r->workers[i].started += n;
			return;
		}
	HQ_VEC_PUSH(r->workers, r->nworkers, r->wcap, w);
}

static uint64_t
jreport_started(const struct jreport *r, uint32_t id)
{
	uint32_t i;

	for (i = 0; i < r->nworkers; i++)
		if (r->workers[i].id == id)
			return r->workers[i].started;
	return 0;
}

static int
jreport_event(struct jwalk *x, uint64_t seq, const struct hq_event *ev,
    const struct hq_state *st)
{
	struct jreport *r = x->arg;
	struct jreport_point pt;
	uint32_t i;

	if (!r->have_t0) {
		/* Offsets count from the server start: the first record of
		 * a complete history, else the oldest one kept. */
		r->have_t0 = true;
		r->t0 = ev->time_ms;
		r->from_ms = r->t0 + r->start_off;
		r->to_ms = r->has_end ? r->t0 + r->end_off : UINT64_MAX;
		/* Stop before the first event after the window: the state
		 * then is the one at its end. */
		x->until_ms = r->to_ms;
	}
	(void)seq;
	if (ev->time_ms < r->from_ms)
		return 0;
	r->nevents++;
	r->last_ms = ev->time_ms;
	jreport_count(r, ev);
	if (ev->kind == HQ_EV_TASK_RUN && ev->u.run.kind == HQ_RUN_STARTED)
		jreport_count_started(r, ev->u.run.worker, ev->u.run.n);
	if (st == NULL)
		return 0;
	pt.t = ev->time_ms;
	pt.running = pt.workers = 0;
	for (i = 1; i < st->workers_cap; i++)
		if (st->workers[i] != NULL && st->workers[i]->online) {
			pt.workers++;
			pt.running += st->workers[i]->nrunning;
		}
	if (r->npts > 0 && r->pts[r->npts - 1].t == pt.t)
		r->pts[r->npts - 1] = pt;
	else
		HQ_VEC_PUSH(r->pts, r->npts, r->ptscap, pt);
	return 0;
}

/* Text for HTML: the five special characters escaped. */
static void
html_put(FILE *f, const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

/* A time as "2026-01-01 10:00:00 UTC", or "-" for 0. */
static void
html_time(FILE *f, uint64_t ms)
{
	struct hq_buf b;

	if (ms == 0) {
		fputs("-", f);
		return;
	}
	hq_buf_init(&b);
	hq_fmt_utc(&b, ms);
	fwrite(b.data, 1, b.len, f);
	hq_buf_fini(&b);
}

static void
html_duration(FILE *f, uint64_t ms)
{
	struct hq_buf b;

	hq_buf_init(&b);
	hq_fmt_duration(&b, ms);
	fwrite(b.data, 1, b.len, f);
	hq_buf_fini(&b);
}

/* The points of a step line over the columns, closed to the bottom for
 * a filled area; a point only where the value changes. */
static void
jreport_steps(FILE *f, const uint32_t *v, uint32_t top, bool area)
{
	uint32_t i, y, prev;

	prev = REPORT_HEIGHT -
	    (uint32_t)((uint64_t)v[0] * (REPORT_HEIGHT - 10) / top);
	if (area)
		fprintf(f, "0,%d ", REPORT_HEIGHT);
	fprintf(f, "0,%u", prev);
	for (i = 1; i < REPORT_COLS; i++) {
		y = REPORT_HEIGHT -
		    (uint32_t)((uint64_t)v[i] * (REPORT_HEIGHT - 10) / top);
		if (y != prev)
			fprintf(f, " %u,%u %u,%u", i, prev, i, y);
		prev = y;
	}
	fprintf(f, " %d,%u", REPORT_COLS, prev);
	if (area)
		fprintf(f, " %d,%d", REPORT_COLS, REPORT_HEIGHT);
}

/*
 * The timeline as an SVG chart: running tasks (filled) and online workers
 * (line), one column per pixel holding the most seen in its time slice.
 */
static void
jreport_chart(FILE *f, const struct jreport *r, uint64_t from, uint64_t to)
{
	uint32_t run[REPORT_COLS], wrk[REPORT_COLS];
	uint32_t cur_run = 0, cur_wrk = 0, top = 1, k = 0, col;
	uint64_t span = to > from ? to - from : 1;

	for (col = 0; col < REPORT_COLS; col++) {
		uint64_t end = from + (span * (col + 1)) / REPORT_COLS;

		run[col] = cur_run;
		wrk[col] = cur_wrk;
		for (; k < r->npts &&
		     (r->pts[k].t < end ||
			 (col + 1 == REPORT_COLS && r->pts[k].t <= to));
		     k++) {
			cur_run = r->pts[k].running;
			cur_wrk = r->pts[k].workers;
			if (r->pts[k].t < from) {
				run[col] = cur_run;
				wrk[col] = cur_wrk;
				continue;
			}
			run[col] = HQ_MAX(run[col], cur_run);
			wrk[col] = HQ_MAX(wrk[col], cur_wrk);
		}
		top = HQ_MAX(top, HQ_MAX(run[col], wrk[col]));
	}
	fprintf(f,
	    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
	    "height=\"%d\" viewBox=\"0 0 %d %d\">\n"
	    "<rect width=\"%d\" height=\"%d\" fill=\"#f8f8f8\"/>\n",
	    REPORT_COLS, REPORT_HEIGHT, REPORT_COLS, REPORT_HEIGHT, REPORT_COLS,
	    REPORT_HEIGHT);
	fputs("<polygon fill=\"#8ab4e8\" points=\"", f);
	jreport_steps(f, run, top, true);
	fputs("\"/>\n<polyline fill=\"none\" stroke=\"#c0392b\" "
	      "stroke-width=\"2\" points=\"",
	    f);
	jreport_steps(f, wrk, top, false);
	fprintf(f,
	    "\"/>\n<text x=\"4\" y=\"14\" font-size=\"12\">%u</text>\n"
	    "</svg>\n",
	    top);
}

static void
jreport_write(FILE *f, const char *path, const struct jreport *r,
    const struct hq_state *st)
{
	uint64_t from = r->from_ms, to = r->has_end ? r->to_ms : r->last_ms;
	uint32_t i, njobs = 0;
	size_t k;

	fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n"
	      "<title>hq journal report: ",
	    f);
	html_put(f, path);
	fputs("</title>\n<style>\n"
	      "body{font-family:sans-serif;margin:2em}\n"
	      "table{border-collapse:collapse;margin-bottom:1.5em}\n"
	      "td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}\n"
	      "td.n{text-align:right}\n"
	      ".legend span{padding:0 1em}\n"
	      "</style></head><body>\n<h1>hq journal report</h1>\n<table>\n",
	    f);
	fputs("<tr><th>Journal</th><td>", f);
	html_put(f, path);
	fputs("</td></tr>\n<tr><th>Server uid</th><td>", f);
	html_put(f, st != NULL ? st->server_uid : "-");
	fputs("</td></tr>\n<tr><th>Server start</th><td>", f);
	html_time(f, r->have_t0 ? r->t0 : 0);
	fputs("</td></tr>\n<tr><th>Window</th><td>", f);
	html_time(f, r->have_t0 ? from : 0);
	fputs(" &ndash; ", f);
	html_time(f, r->have_t0 ? to : 0);
	fputs(" (", f);
	html_duration(f, to > from ? to - from : 0);
	fprintf(f,
	    ")</td></tr>\n<tr><th>Events in the window</th><td>%" PRIu64
	    "</td></tr>\n</table>\n",
	    r->nevents);

	fputs("<h2>Running tasks and online workers</h2>\n"
	      "<p class=\"legend\"><span style=\"color:#4a7fc0\">&#9632; "
	      "running tasks</span><span style=\"color:#c0392b\">&#9644; "
	      "online workers</span></p>\n",
	    f);
	if (st != NULL && r->npts > 0)
		jreport_chart(f, r, from, to);
	else
		fputs("<p>No state to follow (pruned history without a "
		      "checkpoint).</p>\n",
		    f);

	fputs("<h2>Events</h2>\n<table>\n<tr><th>Event</th><th>Count</th>"
	      "<th>Tasks</th></tr>\n",
	    f);
	for (k = 0; k < r->nkinds; k++)
		fprintf(f,
		    "<tr><td>%s</td><td class=\"n\">%" PRIu64 "</td>"
		    "<td class=\"n\">%" PRIu64 "</td></tr>\n",
		    r->kinds[k].name, r->kinds[k].events, r->kinds[k].tasks);
	fputs("</table>\n", f);
	if (st == NULL) {
		fputs("</body></html>\n", f);
		return;
	}

	fputs("<h2>Jobs</h2>\n<table>\n<tr><th>ID</th><th>Name</th>"
	      "<th>State</th><th>Tasks</th><th>Waiting</th><th>Running</th>"
	      "<th>Finished</th><th>Failed</th><th>Canceled</th>"
	      "<th>Submitted</th><th>Completed</th><th>Makespan</th></tr>\n",
	    f);
	for (i = 1; i < st->jobs_cap; i++) {
		const struct hq_job *job = st->jobs[i];

		if (job == NULL || njobs++ >= REPORT_MAX_JOBS)
			continue;
		fprintf(f, "<tr><td class=\"n\">%" PRIu32 "</td><td>", job->id);
		html_put(f, job->name);
		fprintf(f,
		    "</td><td>%s</td><td class=\"n\">%" PRIu32 "</td>"
		    "<td class=\"n\">%" PRIu32 "</td><td class=\"n\">%" PRIu32
		    "</td><td class=\"n\">%" PRIu32 "</td>"
		    "<td class=\"n\">%" PRIu32 "</td><td class=\"n\">%" PRIu32
		    "</td><td>",
		    hq_job_state_name(hq_job_state(job)), job->ntasks,
		    job->counts[HQ_TASK_WAITING], job->counts[HQ_TASK_RUNNING],
		    job->counts[HQ_TASK_FINISHED], job->counts[HQ_TASK_FAILED],
		    job->counts[HQ_TASK_CANCELED]);
		html_time(f, job->submitted_ms);
		fputs("</td><td>", f);
		html_time(f, job->completed_ms);
		fputs("</td><td>", f);
		if (job->completed_ms >= job->submitted_ms &&
		    job->completed_ms != 0)
			html_duration(f, job->completed_ms - job->submitted_ms);
		else
			fputs("-", f);
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
	if (njobs > REPORT_MAX_JOBS)
		fprintf(f, "<p>%" PRIu32 " more jobs not shown.</p>\n",
		    njobs - REPORT_MAX_JOBS);

	fputs("<h2>Workers</h2>\n<table>\n<tr><th>ID</th><th>Host</th>"
	      "<th>Group</th><th>Connected</th><th>Lost</th><th>Reason</th>"
	      "<th>Tasks started</th></tr>\n",
	    f);
	for (i = 1; i < st->workers_cap; i++) {
		const struct hq_sworker *w = st->workers[i];

		if (w == NULL)
			continue;
		fprintf(f, "<tr><td class=\"n\">%" PRIu32 "</td><td>", w->id);
		html_put(f, w->cfg.hostname);
		fputs("</td><td>", f);
		html_put(f, w->cfg.group);
		fputs("</td><td>", f);
		html_time(f, w->connected_ms);
		fputs("</td><td>", f);
		html_time(f, w->online ? 0 : w->lost_ms);
		fprintf(f,
		    "</td><td>%s</td><td class=\"n\">%" PRIu64 "</td></tr>\n",
		    w->online ? "-" : hq_lost_reason_name(w->lost_reason),
		    jreport_started(r, w->id));
	}
	fputs("</table>\n</body></html>\n", f);
}

static const struct hq_opt report_opts[] = {
	{ "start-time", 0, HQ_OPT_VALUE, "DURATION",
	    "Start of the window, as an offset from the server start" },
	{ "end-time", 0, HQ_OPT_VALUE, "DURATION",
	    "End of the window, as an offset from the server start" },
	{ NULL, 0, 0, NULL, NULL },
};

int
cmd_journal_report(struct cli *c, int argc, char **argv)
{
	struct hq_errbuf eb = { { 0 } };
	struct hq_state *st;
	struct jreport r;
	struct hq_args a;
	const char *v, *out;
	FILE *f;

	cli_parse(c, &a, report_opts, argc, argv, 2, false,
	    "<JOURNAL> <OUTPUT.html>",
	    "Write an HTML report of a journal file: events, running tasks "
	    "and workers over time, jobs, workers (offline, read-only)");
	if (a.npos < 2)
		cli_fail(c,
		    "error: the following required arguments were not "
		    "provided:\n  %s<OUTPUT.html>",
		    a.npos < 1 ? "<JOURNAL>\n  " : "");
	memset(&r, 0, sizeof r);
	if ((v = hq_args_get(&a, "start-time")) != NULL &&
	    hq_parse_duration(v, &r.start_off, &eb) != 0)
		cli_fail(c, "invalid value '%s' for '--start-time': %s", v,
		    eb.msg);
	if ((v = hq_args_get(&a, "end-time")) != NULL) {
		if (hq_parse_duration(v, &r.end_off, &eb) != 0)
			cli_fail(c, "invalid value '%s' for '--end-time': %s",
			    v, eb.msg);
		r.has_end = true;
		if (r.end_off < r.start_off)
			cli_fail(c, "--end-time %s is before --start-time", v);
	}
	out = a.pos[1];
	st = jwalk_run(c, a.pos[0], jreport_event, &r);
	if ((f = fopen(out, "w")) == NULL)
		cli_fail(c, "cannot create %s: %s", out, strerror(errno));
	jreport_write(f, a.pos[0], &r, st);
	if (ferror(f) | (fclose(f) != 0)) {
		unlink(out);
		cli_fail(c, "cannot write %s: %s", out, strerror(errno));
	}
	hq_info("Report of %" PRIu64 " event(s) written to %s", r.nevents, out);
	hq_state_destroy(st);
	free(r.pts);
	free(r.workers);
	hq_args_fini(&a);
	return 0;
}

/* ---- stream, replay ------------------------------------------------------ */

/* Write NDJSON text as it came, one line per event, and make it visible. */
static void
stream_print(struct cli *c, const char *text)
{
	size_t n = strlen(text);

	if (n == 0)
		return;
	if (fwrite(text, 1, n, stdout) != n ||
	    (text[n - 1] != '\n' && fputc('\n', stdout) == EOF) ||
	    fflush(stdout) != 0)
		cli_fail(c, "cannot write the output: %s", strerror(errno));
}

/*
 * Ask for the event stream and print it. 'live': the history, then every
 * new event until the server closes the connection (it stops); otherwise
 * the history only, which ends with an empty command reply.
 */
static int
journal_stream(struct cli *c, bool live)
{
	struct hq_errbuf eb = { { 0 } };
	struct hq_cmsg m;
	struct hq_smsg r;
	struct hq_buf b;
	uint8_t *data;
	size_t len;
	int rc;

	cli_connect(c);
	c->printed = true; /* NDJSON in every output mode */
	memset(&m, 0, sizeof m);
	m.kind = HQ_CMSG_STREAM;
	m.live = live;
	hq_buf_init(&b);
	hq_wire_encode_cmsg(&m, &b);
	rc = hq_bconn_send(c->conn, b.data, b.len, &eb);
	hq_buf_fini(&b);
	if (rc != 0)
		cli_fail(c, "cannot send the request: %s", eb.msg);
	for (;;) {
		rc = hq_bconn_recv(c->conn, &data, &len, -1, &eb);
		if (rc != 0) {
			/* A stopping server closes (or drops) every
			 * connection: for a live stream that is its end. */
			if (live &&
			    (rc == HQ_ECLOSED || rc == -ECONNRESET ||
				rc == -EPIPE))
				return 0;
			cli_fail(c, "connection to the server lost%s: %s",
			    live ? "" : " before the end of the history",
			    eb.msg);
		}
		rc = hq_wire_decode_smsg(data, len, &r, &eb);
		free(data);
		if (rc != 0)
			cli_fail(c, "malformed reply from the server: %s",
			    eb.msg);
		switch (r.kind) {
		case HQ_SMSG_JSON:
			stream_print(c, r.json != NULL ? r.json : "");
			break;
		case HQ_SMSG_COMMAND:
			/* The end of the history (replay). */
			cli_print_lines(c, &r);
			hq_smsg_fini(&r);
			if (!live)
				return 0;
			continue;
		case HQ_SMSG_ERROR:
			cli_fail(c, "%s", r.message);
		default:
			cli_fail(c, "unexpected message %d from the server",
			    (int)r.kind);
		}
		hq_smsg_fini(&r);
	}
}

int
cmd_journal_stream(struct cli *c, int argc, char **argv)
{
	struct hq_args a;
	int rc;

	cli_parse(c, &a, no_opts, argc, argv, 0, false, NULL,
	    "Print the past events of the server, then its new events as "
	    "they happen, as NDJSON, until the server stops");
	rc = journal_stream(c, true);
	hq_args_fini(&a);
	return rc;
}

int
cmd_journal_replay(struct cli *c, int argc, char **argv)
{
	struct hq_args a;
	int rc;

	cli_parse(c, &a, no_opts, argc, argv, 0, false, NULL,
	    "Print the past events of the server as NDJSON");
	rc = journal_stream(c, false);
	hq_args_fini(&a);
	return rc;
}

/* ---- prune, flush -------------------------------------------------------- */

static int
journal_command(struct cli *c, int sub)
{
	struct hq_cmsg m;
	struct hq_smsg r;
	bool error;

	cli_connect(c);
	memset(&m, 0, sizeof m);
	m.kind = HQ_CMSG_COMMAND;
	m.sub = sub;
	cli_request(c, &m, &r);
	if (r.kind == HQ_SMSG_ERROR)
		cli_fail(c, "%s", r.message);
	if (r.kind != HQ_SMSG_COMMAND)
		cli_fail(c, "unexpected reply from the server");
	error = cli_print_lines(c, &r);
	hq_smsg_fini(&r);
	return error ? 1 : 0;
}

int
cmd_journal_prune(struct cli *c, int argc, char **argv)
{
	struct hq_args a;
	int rc;

	cli_parse(c, &a, no_opts, argc, argv, 0, false, NULL,
	    "Drop the journal's history up to a checkpoint of the current "
	    "state (the state itself is kept)");
	rc = journal_command(c, HQ_C_JOURNAL_PRUNE);
	hq_args_fini(&a);
	return rc;
}

int
cmd_journal_flush(struct cli *c, int argc, char **argv)
{
	struct hq_args a;
	int rc;

	cli_parse(c, &a, no_opts, argc, argv, 0, false, NULL,
	    "Flush the journal to disk (every change already is)");
	rc = journal_command(c, HQ_C_JOURNAL_FLUSH);
	hq_args_fini(&a);
	return rc;
}
