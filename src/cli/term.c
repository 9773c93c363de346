/* SPDX-License-Identifier: MIT */
/* Colour policy, state colours and the --progress line. */
#include "cli/term.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/util.h"

#define TERM_SGR_RED	 "31"
#define TERM_SGR_GREEN	 "32"
#define TERM_SGR_YELLOW	 "33"
#define TERM_SGR_MAGENTA "35"
#define TERM_SGR_CYAN	 "36"

bool
hq_term_colors(enum hq_color_mode m, FILE *f)
{
	const char *term;
	int fd;

	switch (m) {
	case HQ_COLOR_ALWAYS:
		return true;
	case HQ_COLOR_NEVER:
		return false;
	case HQ_COLOR_AUTO:
		break;
	}
	if (f == NULL || (fd = fileno(f)) < 0 || !isatty(fd))
		return false;
	term = getenv("TERM");
	if (term == NULL || strcmp(term, "dumb") == 0)
		return false;
	if (getenv("NO_COLOR") != NULL)
		return false;
	return true;
}

static const struct {
	const char *name;
	const char *sgr;
} term_states[] = {
	{ "RUNNING", TERM_SGR_YELLOW },
	{ "FINISHED", TERM_SGR_GREEN },
	{ "FAILED", TERM_SGR_RED },
	{ "CANCELED", TERM_SGR_MAGENTA },
	{ "WAITING", TERM_SGR_CYAN },
	/* HyperQueue shows OPENED in cyan, like WAITING. */
	{ "OPENED", TERM_SGR_CYAN },
	{ "ABORTED", TERM_SGR_RED },
};

const char *
hq_state_sgr(const char *state_upper)
{
	size_t i;

	if (state_upper == NULL)
		return NULL;
	for (i = 0; i < HQ_ARRAY_LEN(term_states); i++)
		if (strcasecmp(state_upper, term_states[i].name) == 0)
			return term_states[i].sgr;
	return NULL;
}

static void
term_repeat(struct hq_buf *out, char ch, size_t n)
{
	if (n == 0)
		return;
	memset(hq_buf_reserve(out, n), ch, n);
	out->len += n;
}

/* ceil(count * width / total) without overflow for any uint64_t. */
static size_t
term_bar_chars(uint64_t count, uint64_t total, size_t width)
{
	uint64_t q, r;

	if (width == 0)
		return 0;
	if (count >= total)
		return width;
	/* count < total, so the result is at most width. */
	q = count / total * width;
	r = count % total;
	if (r <= UINT64_MAX / width) {
		r *= width;
		q += r / total + (r % total != 0);
	} else {
		/* Huge counts: long double has 64 bits of mantissa. */
		long double x = (long double)r * width / total;
		uint64_t xi = (uint64_t)x;

		q += xi + ((long double)xi < x);
	}
	return q > width ? width : (size_t)q;
}

void
hq_progress_bar(struct hq_buf *out, const struct hq_progress *p, size_t width,
    bool colors)
{
	const struct {
		uint64_t count;
		const char *sgr;
	} parts[] = {
		{ p->canceled, TERM_SGR_MAGENTA },
		{ p->failed, TERM_SGR_RED },
		{ p->finished, TERM_SGR_GREEN },
		{ p->running, TERM_SGR_YELLOW },
		{ p->aborted, TERM_SGR_RED },
	};
	size_t used = 0, n, i;

	hq_buf_append(out, "[", 1);
	for (i = 0; i < HQ_ARRAY_LEN(parts) && p->tasks_total > 0; i++) {
		n = term_bar_chars(parts[i].count, p->tasks_total, width);
		if (n > width - used)
			n = width - used;
		if (n == 0)
			continue;
		if (colors)
			hq_buf_printf(out, "\x1b[%sm", parts[i].sgr);
		term_repeat(out, '#', n);
		if (colors)
			hq_buf_append_str(out, "\x1b[0m");
		used += n;
	}
	term_repeat(out, '.', width - used);
	hq_buf_append(out, "]", 1);
}

void
hq_progress_line(struct hq_buf *out, const struct hq_progress *p, bool colors)
{
	const struct {
		uint64_t count;
		const char *name;
		const char *sgr;
	} states[] = {
		{ p->running, "RUNNING", TERM_SGR_YELLOW },
		{ p->finished, "FINISHED", TERM_SGR_GREEN },
		{ p->failed, "FAILED", TERM_SGR_RED },
		{ p->canceled, "CANCELED", TERM_SGR_MAGENTA },
		{ p->aborted, "ABORTED", TERM_SGR_RED },
	};
	uint64_t done = p->finished + p->failed + p->canceled + p->aborted;
	bool first = true;
	size_t i;

	hq_buf_append_str(out, "\r\x1b[2K");
	hq_progress_bar(out, p, HQ_PROGRESS_WIDTH, colors);
	hq_buf_printf(out, " %llu/%llu jobs, %llu/%llu tasks ",
	    (unsigned long long)p->jobs_done, (unsigned long long)p->jobs_total,
	    (unsigned long long)done, (unsigned long long)p->tasks_total);
	for (i = 0; i < HQ_ARRAY_LEN(states); i++) {
		if (states[i].count == 0)
			continue;
		hq_buf_append_str(out, first ? "(" : ", ");
		first = false;
		if (colors)
			hq_buf_printf(out, "%llu \x1b[%sm%s\x1b[0m",
			    (unsigned long long)states[i].count, states[i].sgr,
			    states[i].name);
		else
			hq_buf_printf(out, "%llu %s",
			    (unsigned long long)states[i].count,
			    states[i].name);
	}
	if (!first)
		hq_buf_append(out, ")", 1);
}
