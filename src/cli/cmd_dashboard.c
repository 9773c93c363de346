/* SPDX-License-Identifier: MIT */
/*
 * `hq dashboard [stream|replay <JOURNAL>]`: a terminal UI over the
 * server's events (folded by dashmodel.c), drawn with plain ANSI escape
 * sequences on the alternate screen. Screens: cluster, jobs, autoalloc.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/dashmodel.h"
#include "cli/term.h"
#include "common/buf.h"
#include "common/evjson.h"
#include "common/fmt.h"
#include "journal/journal.h"

/* Recent events kept for the cluster screen. */
#define DASH_RING 500
/* At most this many redraws a second. */
#define DASH_FRAME_US (200 * 1000)
/* Frames read from the server before looking at the keyboard again. */
#define DASH_PUMP_FRAMES 64

enum dash_screen {
	DASH_CLUSTER = 0,
	DASH_JOBS,
	DASH_ALLOC,
	DASH_NSCREENS,
};

struct dash {
	struct cli *c;
	struct hq_dashmodel *m;
	bool replay;
	const char *journal;
	bool has_history; /* stream: the server has a journal */
	bool connected;
	bool more; /* frames may be waiting in the TLS buffer */
	bool dirty, quit;
	enum dash_screen screen;
	uint32_t scroll[DASH_NSCREENS];
	uint32_t page; /* rows of the scrolled list last drawn */
	int rows, cols;
	/* While drawing: the rows written so far, the last row content may
	 * use, and where lines below it go (nowhere). */
	bool *drawn;
	int max_row;
	struct hq_buf discard;
	uint64_t nbad; /* malformed event lines skipped */
	char status[sizeof(struct hq_errbuf) + 128];
};

/* ---- the terminal -------------------------------------------------------- */

/*
 * What must be undone on the way out, whichever way that is: q, a signal,
 * or an error that exits through cli_fail() (atexit).
 */
static struct termios term_saved;
static bool term_active;
static int term_pipe[2] = { -1, -1 };

static void
term_write(const void *p, size_t n)
{
	const char *s = p;
	ssize_t r;

	while (n > 0) {
		r = write(STDOUT_FILENO, s, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return; /* the terminal is gone */
		s += r;
		n -= (size_t)r;
	}
}

static void
term_leave(void)
{
	static const char seq[] = "\x1b[0m\x1b[?25h\x1b[?1049l";

	if (!term_active)
		return;
	term_active = false;
	term_write(seq, sizeof seq - 1);
	tcsetattr(STDIN_FILENO, TCSADRAIN, &term_saved);
}

/* Signals end up as a byte in the pipe: the loop does the work. */
static void
term_signal_cb(int sig)
{
	unsigned char b = (unsigned char)sig;
	int saved = errno;
	ssize_t r;

	r = write(term_pipe[1], &b, 1);
	(void)r;
	errno = saved;
}

static int
term_enter(struct hq_errbuf *eb)
{
	static const char seq[] = "\x1b[?1049h\x1b[?25l\x1b[0m\x1b[2J";
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT,
		SIGWINCH };
	struct termios raw;
	struct sigaction sa;
	size_t i;

	if (tcgetattr(STDIN_FILENO, &term_saved) != 0)
		return hq_errf(eb, -errno, "cannot read the terminal mode: %s",
		    strerror(errno));
	if (pipe2(term_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
		return hq_errf(eb, -errno, "pipe: %s", strerror(errno));
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = term_signal_cb;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	for (i = 0; i < HQ_ARRAY_LEN(sigs); i++)
		sigaction(sigs[i], &sa, NULL);
	/* Keys one by one, unechoed; Ctrl-C is a key like q. Output
	 * processing stays: only absolute positions are used anyway. */
	raw = term_saved;
	raw.c_iflag &= ~(tcflag_t)(BRKINT | ICRNL | INPCK | ISTRIP | IXON);
	raw.c_lflag &= ~(tcflag_t)(ECHO | ICANON | IEXTEN | ISIG);
	raw.c_cflag |= CS8;
	raw.c_cc[VMIN] = 0;
	raw.c_cc[VTIME] = 0;
	if (tcsetattr(STDIN_FILENO, TCSADRAIN, &raw) != 0)
		return hq_errf(eb, -errno, "cannot set the terminal mode: %s",
		    strerror(errno));
	term_active = true;
	atexit(term_leave);
	term_write(seq, sizeof seq - 1);
	return 0;
}

static void
term_size(struct dash *d)
{
	struct winsize ws;

	d->rows = 24;
	d->cols = 80;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 &&
	    ws.ws_col > 0) {
		d->rows = ws.ws_row;
		d->cols = ws.ws_col;
	}
}

/* ---- drawing ------------------------------------------------------------- */

/* One screen line being built: text with SGR codes, clipped to 'left'
 * columns. */
struct line {
	struct hq_buf *b;
	int left;
	bool colors;
};

/* Append 'text' (NULL: "") in style 'sgr' (NULL: plain): control
 * characters become '?', UTF-8 sequences count one column. */
static void
line_put(struct line *l, const char *sgr, const char *text)
{
	const unsigned char *s = (const unsigned char *)(text ? text : "");

	if (sgr != NULL && l->colors)
		hq_buf_printf(l->b, "\x1b[%sm", sgr);
	for (; *s != '\0'; s++) {
		if ((*s & 0xc0) == 0x80) {
			hq_buf_append(l->b, s, 1); /* continuation byte */
			continue;
		}
		if (l->left <= 0)
			break;
		l->left--;
		if (*s < 0x20 || *s == 0x7f)
			hq_buf_append(l->b, "?", 1);
		else
			hq_buf_append(l->b, s, 1);
	}
	if (sgr != NULL && l->colors)
		hq_buf_append_str(l->b, "\x1b[0m");
}

static void HQ_PRINTF(3, 4)
    line_printf(struct line *l, const char *sgr, const char *fmt, ...)
{
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	line_put(l, sgr, text);
}

/* Spaces up to 'n' more columns (or the end of the line). */
static void
line_pad(struct line *l, int n)
{
	for (; n > 0 && l->left > 0; n--, l->left--)
		hq_buf_append(l->b, " ", 1);
}

/* Start line 'row' (1-based) of the frame; a row past d->max_row is
 * dropped. */
static void
line_start(struct dash *d, struct hq_buf *b, struct line *l, int row)
{
	if (row < 1 || row > d->max_row) {
		hq_buf_reset(&d->discard);
		b = &d->discard;
	} else {
		d->drawn[row - 1] = true;
	}
	hq_buf_printf(b, "\x1b[%d;1H", row);
	l->b = b;
	l->left = d->cols;
	l->colors = d->c->colors;
}

/* End a line: clear what is left of it. */
static void
line_end(struct line *l)
{
	hq_buf_append_str(l->b, "\x1b[0m\x1b[K");
}

/* Columns of display width of UTF-8 text, one per character. */
static int
text_width(const char *s)
{
	int n = 0;

	for (; s != NULL && *s != '\0'; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* A table: a header and rows of owned cells, drawn with columns as wide
 * as their widest cell. */
struct table {
	uint32_t ncols, nrows, cap;
	const char *const *heads;
	const bool *right;
	char **cells;	   /* nrows * ncols */
	const char **sgrs; /* per cell, NULL: plain */
};

static void
table_init(struct table *t, const char *const *heads, const bool *right,
    uint32_t ncols)
{
	memset(t, 0, sizeof *t);
	t->heads = heads;
	t->right = right;
	t->ncols = ncols;
}

/* Add a row of ncols cells (each taken: malloc'd); 'sgr_col' gets 'sgr'. */
static void
table_row(struct table *t, char **cells, uint32_t sgr_col, const char *sgr)
{
	uint32_t k;

	if (t->nrows == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->cells = hq_xreallocarray(t->cells, (size_t)t->cap * t->ncols,
		    sizeof *t->cells);
		t->sgrs = hq_xreallocarray(t->sgrs, (size_t)t->cap * t->ncols,
		    sizeof *t->sgrs);
	}
	for (k = 0; k < t->ncols; k++) {
		t->cells[t->nrows * t->ncols + k] = cells[k];
		t->sgrs[t->nrows * t->ncols + k] = k == sgr_col ? sgr : NULL;
	}
	t->nrows++;
}

static void
table_cell(struct line *l, const char *text, const char *sgr, int width,
    bool right, bool last)
{
	int pad = width - text_width(text);

	if (right)
		line_pad(l, pad);
	line_put(l, sgr, text);
	if (!right && !last)
		line_pad(l, pad);
	if (!last)
		line_pad(l, 2);
}

/* Draw the header at 'row' and the rows below it; frees the cells. */
static void
table_draw(struct dash *d, struct hq_buf *b, struct table *t, int row)
{
	int width[16];
	struct line l;
	uint32_t i, k;

	HQ_ASSERT(t->ncols <= HQ_ARRAY_LEN(width));
	for (k = 0; k < t->ncols; k++) {
		width[k] = text_width(t->heads[k]);
		for (i = 0; i < t->nrows; i++)
			width[k] = HQ_MAX(width[k],
			    text_width(t->cells[i * t->ncols + k]));
	}
	line_start(d, b, &l, row);
	for (k = 0; k < t->ncols; k++)
		table_cell(&l, t->heads[k], "1", width[k], t->right[k],
		    k + 1 == t->ncols);
	line_end(&l);
	for (i = 0; i < t->nrows; i++) {
		line_start(d, b, &l, row + 1 + (int)i);
		for (k = 0; k < t->ncols; k++)
			table_cell(&l, t->cells[i * t->ncols + k],
			    t->sgrs[i * t->ncols + k], width[k], t->right[k],
			    k + 1 == t->ncols);
		line_end(&l);
	}
	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->sgrs);
}

static void
text_line(struct dash *d, struct hq_buf *b, int row, const char *sgr,
    const char *text)
{
	struct line l;

	line_start(d, b, &l, row);
	line_put(&l, sgr, text);
	line_end(&l);
}

/* The first visible item of a list of 'n' in 'height' rows, and keep
 * the scroll position within bounds. */
static uint32_t
dash_first(struct dash *d, uint32_t n, int height)
{
	uint32_t h = height > 0 ? (uint32_t)height : 0;
	uint32_t *s = &d->scroll[d->screen];

	d->page = h;
	if (n <= h)
		*s = 0;
	else if (*s > n - h)
		*s = n - h;
	return *s;
}

static char *
dash_duration(uint64_t ms)
{
	struct hq_buf b;

	hq_buf_init(&b);
	hq_fmt_duration(&b, ms);
	return hq_buf_cstr(&b);
}

/* Header: where the events come from, then the totals. */
static void
draw_header(struct dash *d, struct hq_buf *b)
{
	const struct hq_dashmodel *m = d->m;
	struct hq_dash_totals t;
	struct line l;

	hq_dashmodel_totals(m, &t);
	if (m->server_stopped)
		t.workers_online = 0;
	line_start(d, b, &l, 1);
	line_put(&l, "1", "hq dashboard");
	line_printf(&l, NULL, "  server %s",
	    m->server_uid ? m->server_uid : "?");
	if (m->server_host != NULL)
		line_printf(&l, NULL, " on %s", m->server_host);
	line_put(&l, NULL, "  |  ");
	if (d->replay)
		line_printf(&l, NULL, "replay of %s (%" PRIu64 " events)",
		    d->journal, m->nevents);
	else if (d->connected && m->server_stopped)
		line_put(&l, "33", "server stopping");
	else if (d->connected)
		line_put(&l, "32", "connected");
	else
		line_put(&l, "1;31", "server disconnected");
	if (!d->replay && !d->has_history)
		line_put(&l, NULL,
		    "  |  no journal: started from the server's lists");
	else if (m->first_seq > 1 && !m->seeded)
		line_printf(&l, NULL,
		    "  |  history before event %" PRIu64 " pruned",
		    m->first_seq);
	line_end(&l);

	line_start(d, b, &l, 2);
	line_printf(&l, NULL,
	    "Workers %u online / %u   Jobs %u   Tasks %" PRIu64 ": %" PRIu64
	    " waiting, %" PRIu64 " running, %" PRIu64 " finished, %" PRIu64
	    " failed, %" PRIu64 " canceled",
	    t.workers_online, t.workers, t.jobs, t.tasks,
	    t.counts[HQ_TASK_WAITING], t.counts[HQ_TASK_RUNNING],
	    t.counts[HQ_TASK_FINISHED], t.counts[HQ_TASK_FAILED],
	    t.counts[HQ_TASK_CANCELED] + t.counts[HQ_TASK_ABORTED]);
	line_end(&l);
}

static void
draw_tabs(struct dash *d, struct hq_buf *b)
{
	static const char *const names[DASH_NSCREENS] = { "1 Cluster", "2 Jobs",
		"3 Autoalloc" };
	struct line l;
	int i;

	line_start(d, b, &l, 3);
	for (i = 0; i < DASH_NSCREENS; i++) {
		/* Without colours the current screen is in brackets. */
		if (!l.colors)
			line_put(&l, NULL, (int)d->screen == i ? "[" : " ");
		line_printf(&l, (int)d->screen == i ? "7;1" : NULL, " %s ",
		    names[i]);
		if (!l.colors)
			line_put(&l, NULL, (int)d->screen == i ? "]" : " ");
		line_put(&l, NULL, " ");
	}
	line_end(&l);
}

static void
draw_cluster(struct dash *d, struct hq_buf *b, int top, int height)
{
	static const char *const heads[] = { "ID", "HOSTNAME", "STATE",
		"RUNNING", "ASSIGNED", "GROUP", "RESOURCES" };
	static const bool right[] = { true, false, false, true, true, false,
		false };
	const struct hq_dashmodel *m = d->m;
	struct hq_dash_totals t;
	struct table tab;
	int nevents = height >= 14 ? height / 3 : 0, list, i;
	uint32_t first, k;
	const char *ev;
	char title[128];

	hq_dashmodel_totals(m, &t);
	if (m->server_stopped)
		t.workers_online = 0;
	snprintf(title, sizeof title, "Workers: %u online, %u offline",
	    t.workers_online, t.workers - t.workers_online);
	text_line(d, b, top, "1", title);
	list = height - 2 - (nevents > 0 ? nevents + 1 : 0);
	if (m->nworkers == 0) {
		d->page = 0;
		text_line(d, b, top + 1, NULL, "No workers");
	} else {
		table_init(&tab, heads, right, HQ_ARRAY_LEN(heads));
		first = dash_first(d, m->nworkers, list);
		for (k = first; k < m->nworkers && (int)(k - first) < list;
		     k++) {
			const struct hq_dash_worker *w = &m->workers[k];
			char *cells[] = {
				hq_xprintf("%u", w->id),
				hq_xstrdup(w->hostname),
				NULL,
				hq_xprintf("%u", w->nrunning),
				hq_xprintf("%u", w->nassigned),
				hq_xstrdup(w->group),
				hq_xstrdup(w->resources),
			};
			const char *sgr = "32";

			/* A stopped server keeps its workers for a restart:
			 * what became of them is not known. */
			if (w->online && m->server_stopped) {
				cells[2] = hq_xstrdup("SERVER STOPPED");
				sgr = "33";
			} else if (w->online) {
				cells[2] = hq_xstrdup("RUNNING");
			} else {
				cells[2] = hq_xprintf("OFFLINE (%s)",
				    w->lost_reason ? w->lost_reason : "?");
				sgr = "31";
			}
			table_row(&tab, cells, 2, sgr);
		}
		table_draw(d, b, &tab, top + 1);
	}
	if (nevents == 0)
		return;
	text_line(d, b, top + height - nevents - 1, "1", "Recent events (UTC)");
	for (i = 0; i < nevents; i++) {
		ev = hq_dashmodel_recent(m, (uint32_t)i);
		if (ev == NULL)
			break;
		text_line(d, b, top + height - nevents + i, NULL, ev);
	}
}

static void
draw_jobs(struct dash *d, struct hq_buf *b, int top, int height)
{
	static const char *const heads[] = { "ID", "NAME", "STATE", "TASKS",
		"WAITING", "RUNNING", "FINISHED", "FAILED", "CANCELED",
		"ABORTED", "PROGRESS" };
	static const bool right[] = { true, false, false, true, true, true,
		true, true, true, true, false };
	const struct hq_dashmodel *m = d->m;
	struct table tab;
	uint32_t first, k;
	int list = height - 2;
	char title[64];

	snprintf(title, sizeof title, "Jobs: %u", m->njobs);
	text_line(d, b, top, "1", title);
	if (m->njobs == 0) {
		d->page = 0;
		text_line(d, b, top + 1, NULL, "No jobs");
		return;
	}
	table_init(&tab, heads, right, HQ_ARRAY_LEN(heads));
	first = dash_first(d, m->njobs, list);
	for (k = first; k < m->njobs && (int)(k - first) < list; k++) {
		const struct hq_dash_job *j = &m->jobs[k];
		const char *state = hq_job_state_name(hq_dash_job_state(j));
		struct hq_progress p = {
			.jobs_total = 1,
			.tasks_total = j->ntasks,
			.running = j->counts[HQ_TASK_RUNNING],
			.finished = j->counts[HQ_TASK_FINISHED],
			.failed = j->counts[HQ_TASK_FAILED],
			.canceled = j->counts[HQ_TASK_CANCELED],
			.aborted = j->counts[HQ_TASK_ABORTED],
		};
		struct hq_buf bar;
		char *cells[11];

		hq_buf_init(&bar);
		hq_progress_bar(&bar, &p, 20, false);
		cells[0] = hq_xprintf("%u", j->id);
		cells[1] = hq_xstrdup(j->name);
		cells[2] = hq_xstrdup(state);
		cells[3] = hq_xprintf("%u", j->ntasks);
		cells[4] = hq_xprintf("%u", j->counts[HQ_TASK_WAITING]);
		cells[5] = hq_xprintf("%u", j->counts[HQ_TASK_RUNNING]);
		cells[6] = hq_xprintf("%u", j->counts[HQ_TASK_FINISHED]);
		cells[7] = hq_xprintf("%u", j->counts[HQ_TASK_FAILED]);
		cells[8] = hq_xprintf("%u", j->counts[HQ_TASK_CANCELED]);
		cells[9] = hq_xprintf("%u", j->counts[HQ_TASK_ABORTED]);
		cells[10] = hq_buf_cstr(&bar);
		table_row(&tab, cells, 2, hq_state_sgr(state));
	}
	table_draw(d, b, &tab, top + 1);
}

static void
draw_alloc(struct dash *d, struct hq_buf *b, int top, int height)
{
	static const char *const qheads[] = { "ID", "MANAGER", "NAME", "STATE",
		"BACKLOG", "WORKERS/ALLOC", "MAX WORKERS", "TIME LIMIT",
		"MESSAGE" };
	static const bool qright[] = { true, false, false, false, true, true,
		true, false, false };
	static const char *const aheads[] = { "ALLOCATION", "QUEUE", "WORKERS",
		"STATE" };
	static const bool aright[] = { false, true, true, false };
	const struct hq_dashmodel *m = d->m;
	struct table tab;
	uint32_t k, first;
	int row, list;
	char title[64];

	snprintf(title, sizeof title, "Allocation queues: %u", m->nqueues);
	text_line(d, b, top, "1", title);
	if (m->nqueues == 0) {
		d->page = 0;
		text_line(d, b, top + 1, NULL, "No allocation queues");
		return;
	}
	table_init(&tab, qheads, qright, HQ_ARRAY_LEN(qheads));
	for (k = 0; k < m->nqueues && (int)k < height / 2 - 2; k++) {
		const struct hq_dash_queue *q = &m->queues[k];
		char *cells[] = {
			hq_xprintf("%u", q->id),
			hq_xstrdup(q->manager),
			hq_xstrdup(q->name ? q->name : ""),
			hq_xstrdup(q->paused ? "PAUSED" : "ACTIVE"),
			hq_xprintf("%u", q->backlog),
			hq_xprintf("%u", q->max_workers_per_alloc),
			q->max_worker_count
			    ? hq_xprintf("%u", q->max_worker_count)
			    : hq_xstrdup("-"),
			dash_duration(q->time_limit_ms),
			hq_xstrdup(q->message ? q->message : ""),
		};

		table_row(&tab, cells, 3, q->paused ? "33" : "32");
	}
	row = top + 2 + (int)tab.nrows + 1;
	table_draw(d, b, &tab, top + 1);
	snprintf(title, sizeof title, "Allocations: %u (newest first)",
	    m->nallocs);
	text_line(d, b, row, "1", title);
	list = top + height - row - 2;
	if (m->nallocs == 0) {
		d->page = 0;
		text_line(d, b, row + 1, NULL, "No allocations");
		return;
	}
	table_init(&tab, aheads, aright, HQ_ARRAY_LEN(aheads));
	first = dash_first(d, m->nallocs, list);
	for (k = first; k < m->nallocs && (int)(k - first) < list; k++) {
		const struct hq_dash_alloc *a = &m->allocs[m->nallocs - 1 - k];
		const char *state = hq_dash_alloc_state_name(a->state);
		char *cells[] = {
			hq_xstrdup(a->id),
			hq_xprintf("%u", a->queue_id),
			hq_xprintf("%u", a->target),
			hq_xstrdup(state),
		};

		table_row(&tab, cells, 3, hq_state_sgr(state));
	}
	table_draw(d, b, &tab, row + 1);
}

static void
draw_footer(struct dash *d, struct hq_buf *b)
{
	struct line l;

	line_start(d, b, &l, d->rows);
	if (!d->replay && !d->connected)
		line_put(&l, "1;31",
		    "server disconnected: the last state is shown  ");
	else if (d->status[0] != '\0')
		line_printf(&l, "33", "%s  ", d->status);
	line_put(&l, "7",
	    " 1/2/3/Tab: screens  Up/Down j/k PgUp/PgDn: scroll  q: quit ");
	line_end(&l);
}

static void
dash_draw(struct dash *d)
{
	struct hq_buf b;
	int top = 5, height = d->rows - 5, row;

	hq_buf_init(&b);
	hq_buf_append_str(&b, "\x1b[?25l");
	d->drawn = hq_xcalloc((size_t)d->rows, sizeof *d->drawn);
	d->max_row = d->rows - 1; /* the last one is the footer's */
	draw_header(d, &b);
	draw_tabs(d, &b);
	if (height > 0) {
		switch (d->screen) {
		case DASH_CLUSTER:
			draw_cluster(d, &b, top, height);
			break;
		case DASH_JOBS:
			draw_jobs(d, &b, top, height);
			break;
		case DASH_ALLOC:
		case DASH_NSCREENS:
			draw_alloc(d, &b, top, height);
			break;
		}
	}
	d->max_row = d->rows;
	if (d->rows >= 2)
		draw_footer(d, &b);
	/* Rows this frame left alone are cleared (not the whole screen
	 * first: that would flicker). */
	for (row = 1; row <= d->rows; row++)
		if (!d->drawn[row - 1])
			hq_buf_printf(&b, "\x1b[%d;1H\x1b[K", row);
	free(d->drawn);
	d->drawn = NULL;
	term_write(b.data, b.len);
	hq_buf_fini(&b);
}

/* ---- keys ---------------------------------------------------------------- */

static void
dash_scroll(struct dash *d, int64_t by)
{
	uint32_t *s = &d->scroll[d->screen];

	if (by < 0)
		*s = (uint64_t)-by > *s ? 0 : *s - (uint32_t)-by;
	else
		*s = (uint64_t)*s + (uint64_t)by > UINT32_MAX / 2
		    ? UINT32_MAX / 2
		    : *s + (uint32_t)by;
	/* The drawing clamps it to the list. */
}

static void
dash_keys(struct dash *d, const unsigned char *k, size_t n)
{
	int64_t page = d->page > 1 ? d->page - 1 : 1;
	size_t i;

	for (i = 0; i < n; i++) {
		d->dirty = true;
		switch (k[i]) {
		case 'q':
		case 'Q':
		case 0x03: /* Ctrl-C */
			d->quit = true;
			return;
		case '1':
		case '2':
		case '3':
			d->screen = (enum dash_screen)(k[i] - '1');
			continue;
		case '\t':
			d->screen = (d->screen + 1) % DASH_NSCREENS;
			continue;
		case 'j':
			dash_scroll(d, 1);
			continue;
		case 'k':
			dash_scroll(d, -1);
			continue;
		case ' ':
			dash_scroll(d, page);
			continue;
		case 'g':
			d->scroll[d->screen] = 0;
			continue;
		case 'G':
			dash_scroll(d, UINT32_MAX / 2);
			continue;
		case 0x1b:
			break;
		default:
			continue;
		}
		/* ESC [ x or ESC O x, and ESC [ n ~. */
		if (i + 2 >= n || (k[i + 1] != '[' && k[i + 1] != 'O'))
			continue;
		i += 2;
		switch (k[i]) {
		case 'A':
			dash_scroll(d, -1);
			break;
		case 'B':
			dash_scroll(d, 1);
			break;
		case 'C':
			d->screen = (d->screen + 1) % DASH_NSCREENS;
			break;
		case 'D':
		case 'Z': /* Shift-Tab */
			d->screen =
			    (d->screen + DASH_NSCREENS - 1) % DASH_NSCREENS;
			break;
		case 'H':
			d->scroll[d->screen] = 0;
			break;
		case 'F':
			dash_scroll(d, UINT32_MAX / 2);
			break;
		case '1':
		case '4':
		case '5':
		case '6':
			if (i + 1 < n && k[i + 1] == '~') {
				if (k[i] == '5')
					dash_scroll(d, -page);
				else if (k[i] == '6')
					dash_scroll(d, page);
				else if (k[i] == '1')
					d->scroll[d->screen] = 0;
				else
					dash_scroll(d, UINT32_MAX / 2);
				i++;
			}
			break;
		default:
			break;
		}
	}
}

/* ---- the server ---------------------------------------------------------- */

static void
dash_fold(struct dash *d, const char *text)
{
	struct hq_errbuf eb = { { 0 } };
	uint32_t nbad = 0;

	if (hq_dashmodel_feed_text(d->m, text, strlen(text), &nbad, &eb) != 0) {
		d->nbad += nbad;
		snprintf(d->status, sizeof d->status,
		    "%" PRIu64 " malformed event line(s) skipped; %s", d->nbad,
		    eb.msg);
	}
	d->dirty = true;
}

static void
dash_lost(struct dash *d, const char *why)
{
	cli_disconnect(d->c);
	d->connected = false;
	d->more = false;
	d->dirty = true;
	if (why != NULL)
		snprintf(d->status, sizeof d->status, "%s", why);
}

/* Read what the server sent, at most DASH_PUMP_FRAMES frames. */
static void
dash_pump(struct dash *d)
{
	struct hq_errbuf eb = { { 0 } };
	struct hq_smsg r;
	uint8_t *data;
	size_t len;
	int i, rc;

	for (i = 0; i < DASH_PUMP_FRAMES && d->connected; i++) {
		rc = hq_bconn_recv(d->c->conn, &data, &len, 0, &eb);
		if (rc == HQ_ETIMEOUT) {
			d->more = false;
			return;
		}
		if (rc != 0) {
			dash_lost(d, NULL);
			return;
		}
		rc = hq_wire_decode_smsg(data, len, &r, &eb);
		free(data);
		if (rc != 0) {
			dash_lost(d, eb.msg);
			return;
		}
		switch (r.kind) {
		case HQ_SMSG_JSON:
			dash_fold(d, r.json != NULL ? r.json : "");
			break;
		case HQ_SMSG_COMMAND:
			break; /* the end of a history without live events */
		case HQ_SMSG_ERROR:
			dash_lost(d, r.message);
			break;
		default:
			dash_lost(d, "unexpected message from the server");
			break;
		}
		hq_smsg_fini(&r);
	}
	d->more = d->connected;
}

/*
 * Connect and ask for the events. A server without a journal has no
 * history: the model then starts from its worker and job lists.
 */
static void
dash_connect(struct dash *d)
{
	struct hq_errbuf eb = { { 0 } };
	struct cli *c = d->c;
	json_t *info, *workers, *jobs;
	struct hq_cmsg m;
	struct hq_buf b;

	cli_connect(c);
	info =
	    cli_query(c, HQ_Q_SERVER_INFO, NULL, NULL, false, NULL, 0, false);
	hq_dashmodel_set_server(d->m, cli_jstr(info, "server_uid"),
	    cli_jstr(info, "client_host"));
	d->has_history = json_is_string(json_object_get(info, "journal_path"));
	json_decref(info);
	if (!d->has_history) {
		workers = cli_query(c, HQ_Q_WORKER_LIST, NULL, NULL, false,
		    NULL, 0, false);
		jobs = cli_query(c, HQ_Q_JOB_LIST, NULL, NULL, false, NULL, 0,
		    false);
		if (hq_dashmodel_seed(d->m, workers, jobs, &eb) != 0)
			snprintf(d->status, sizeof d->status,
			    "the server's lists were not all understood: %s",
			    eb.msg);
		json_decref(workers);
		json_decref(jobs);
	}
	memset(&m, 0, sizeof m);
	m.kind = HQ_CMSG_STREAM;
	m.live = true;
	hq_buf_init(&b);
	hq_wire_encode_cmsg(&m, &b);
	if (hq_bconn_send(c->conn, b.data, b.len, &eb) != 0)
		cli_fail(c, "cannot send the request: %s", eb.msg);
	hq_buf_fini(&b);
	d->connected = true;
	d->more = true;
}

/* ---- a journal file ------------------------------------------------------ */

struct dash_load {
	struct hq_dashmodel *m;
	uint64_t bad_seq;
	char msg[sizeof(struct hq_errbuf) + 64];
};

static int
dash_load_cb(uint64_t seq, const void *rec, size_t len, void *arg)
{
	struct dash_load *x = arg;
	struct hq_errbuf eb = { { 0 } };
	struct hq_event ev;
	uint32_t i, n;
	json_t *o;
	int rc = 0;

	if (hq_wire_decode_event(rec, len, &ev, &eb) != 0) {
		x->bad_seq = seq;
		snprintf(x->msg, sizeof x->msg,
		    "event %" PRIu64 " cannot be decoded: %s", seq, eb.msg);
		return 1;
	}
	/* The host is in the record, not in its NDJSON. */
	if (ev.kind == HQ_EV_SERVER_STARTED)
		hq_dashmodel_set_server(x->m, NULL, ev.u.started.host);
	n = hq_event_json_nlines(&ev);
	for (i = 0; i < n && rc == 0; i++) {
		o = hq_event_to_json(&ev, seq, NULL, i);
		if (hq_dashmodel_feed_json(x->m, o, &eb) != 0) {
			x->bad_seq = seq;
			snprintf(x->msg, sizeof x->msg, "event %" PRIu64 ": %s",
			    seq, eb.msg);
			rc = 1;
		}
		json_decref(o);
	}
	hq_event_fini(&ev);
	return rc;
}

/* Fold every event of the journal at 'path'; exits with a message naming
 * the file and the problem. */
static void
dash_load(struct dash *d, const char *path)
{
	struct hq_journal_opts jo = { .map_size = 0, .readonly = true };
	struct hq_errbuf eb = { { 0 } }, inner = { { 0 } };
	struct hq_journal *j = NULL;
	struct dash_load x;
	int rc;

	memset(&x, 0, sizeof x);
	x.m = d->m;
	if ((rc = hq_journal_open(path, &jo, &j, &eb)) != 0)
		cli_fail(d->c, "%s", eb.msg[0] ? eb.msg : hq_strerror(rc));
	/* Altered records may still decode: only the chain tells. */
	if ((rc = hq_journal_verify_chain(j, NULL, &inner)) != 0) {
		hq_journal_close(j);
		cli_fail(d->c, "%s; check it with `hq-replay verify %s`",
		    inner.msg[0] ? inner.msg : hq_strerror(rc), path);
	}
	rc = hq_journal_foreach(j, 0, UINT64_MAX, dash_load_cb, &x);
	hq_journal_close(j);
	if (x.bad_seq != 0)
		cli_fail(d->c,
		    "journal %s: %s; check it with `hq-replay verify %s`", path,
		    x.msg, path);
	if (rc < 0)
		cli_fail(d->c, "journal %s cannot be read: %s", path,
		    hq_strerror(rc));
}

/* ---- the loop ------------------------------------------------------------ */

static int
dash_run(struct dash *d)
{
	struct pollfd pfd[3];
	uint64_t now, last_draw = 0;
	unsigned char keys[64];
	int nfd, timeout, quit_sig = 0;
	ssize_t n;

	term_size(d);
	d->dirty = true;
	while (!d->quit) {
		now = hq_mono_us();
		if (d->dirty &&
		    (last_draw == 0 || now - last_draw >= DASH_FRAME_US)) {
			dash_draw(d);
			d->dirty = false;
			last_draw = now;
		}
		timeout = -1;
		if (d->dirty)
			timeout =
			    (int)((last_draw + DASH_FRAME_US - now) / 1000) + 1;
		if (d->more)
			timeout = 0;
		pfd[0] =
		    (struct pollfd){ .fd = STDIN_FILENO, .events = POLLIN };
		pfd[1] =
		    (struct pollfd){ .fd = term_pipe[0], .events = POLLIN };
		nfd = 2;
		if (d->connected) {
			pfd[2] = (struct pollfd){ .fd = hq_bconn_fd(d->c->conn),
				.events = POLLIN };
			nfd = 3;
		}
		if (poll(pfd, (nfds_t)nfd, timeout) < 0) {
			if (errno == EINTR)
				continue;
			term_leave();
			cli_fail(d->c, "poll: %s", strerror(errno));
		}
		if (pfd[1].revents & POLLIN) {
			unsigned char sig;

			while (read(term_pipe[0], &sig, 1) == 1) {
				if (sig == SIGWINCH) {
					term_size(d);
					term_write("\x1b[2J", 4);
					d->dirty = true;
				} else {
					quit_sig = sig;
					d->quit = true;
				}
			}
		}
		if (pfd[0].revents & POLLIN) {
			n = read(STDIN_FILENO, keys, sizeof keys);
			if (n > 0)
				dash_keys(d, keys, (size_t)n);
		}
		if (pfd[0].revents & (POLLHUP | POLLERR | POLLNVAL))
			d->quit = true; /* the terminal is gone */
		if (d->connected &&
		    (d->more || (nfd == 3 && pfd[2].revents != 0)))
			dash_pump(d);
	}
	term_leave();
	if (quit_sig != 0) {
		/* Die of the signal, as if it had not been caught. */
		signal(quit_sig, SIG_DFL);
		raise(quit_sig);
	}
	return 0;
}

static const struct hq_opt dash_opts[] = {
	{ NULL, 0, 0, NULL, NULL },
};

int
cmd_dashboard(struct cli *c, int argc, char **argv)
{
	struct hq_errbuf eb = { { 0 } };
	struct dash d;
	struct hq_args a;
	int rc;

	cli_parse(c, &a, dash_opts, argc, argv, 2, false,
	    "[stream|replay] [<JOURNAL>]",
	    "A terminal UI with the cluster, its jobs and automatic "
	    "allocation: `stream` (the default) follows the server's events; "
	    "`replay <JOURNAL>` shows the state a journal file ends in");
	memset(&d, 0, sizeof d);
	d.c = c;
	if (a.npos >= 1 && strcmp(a.pos[0], "replay") == 0) {
		if (a.npos < 2)
			cli_fail(c,
			    "error: the following required arguments were "
			    "not provided:\n  <JOURNAL>");
		d.replay = true;
		d.journal = a.pos[1];
	} else if (a.npos >= 1 && strcmp(a.pos[0], "stream") != 0) {
		cli_fail(c,
		    "error: unrecognized subcommand '%s'\n\nUsage: hq "
		    "dashboard [stream|replay <JOURNAL>]",
		    a.pos[0]);
	} else if (a.npos == 2) {
		cli_fail(c, "error: unexpected argument '%s' found", a.pos[1]);
	}
	if (!isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO))
		cli_fail(c, "hq dashboard needs a terminal");
	c->printed = true; /* nothing for JSON mode to add */
	hq_buf_init(&d.discard);
	d.m = hq_dashmodel_create(DASH_RING);
	if (d.replay)
		dash_load(&d, d.journal);
	else
		dash_connect(&d);
	if ((rc = term_enter(&eb)) != 0)
		cli_fail(c, "%s", eb.msg);
	rc = dash_run(&d);
	cli_disconnect(c);
	hq_dashmodel_destroy(d.m);
	hq_buf_fini(&d.discard);
	hq_args_fini(&a);
	return rc;
}
