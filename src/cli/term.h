/* SPDX-License-Identifier: MIT */
/* Terminal output helpers: colour policy, state colours, progress line. */
#ifndef HQ_TERM_H
#define HQ_TERM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct hq_buf;

/* --colors auto|always|never */
enum hq_color_mode {
	HQ_COLOR_AUTO = 0,
	HQ_COLOR_ALWAYS,
	HQ_COLOR_NEVER,
};

/*
 * Whether to colour output written to 'f'. AUTO means: 'f' is a terminal,
 * TERM is set and is not "dumb", and NO_COLOR is unset (the checks of
 * HyperQueue's termcolor/colored crates).
 */
bool hq_term_colors(enum hq_color_mode m, FILE *f);

/*
 * The SGR parameter (e.g. "33") of a job or task state name, as
 * HyperQueue colours it: RUNNING yellow, FINISHED green, FAILED red,
 * CANCELED magenta, WAITING cyan, OPENED cyan, ABORTED red. Case is
 * ignored. NULL for any other name. Static storage.
 */
const char *hq_state_sgr(const char *state_upper);

/* Counters for one redraw of the --progress line. */
struct hq_progress {
	uint64_t jobs_total;
	uint64_t jobs_done;
	uint64_t tasks_total;
	uint64_t running;
	uint64_t finished;
	uint64_t failed;
	uint64_t canceled;
	uint64_t aborted;
};

/* Width of the progress bar between the brackets. */
#define HQ_PROGRESS_WIDTH 40

/*
 * Append to 'out' a progress bar of 'width' characters in brackets:
 * '#' segments for canceled, failed, finished, running and aborted (in
 * that order, each ceil(count * width / total) characters, capped at the
 * room left), then '.' for the rest. With 'colors' every non-empty
 * segment is wrapped in its state colour. total == 0 gives all dots.
 */
void hq_progress_bar(struct hq_buf *out, const struct hq_progress *p,
    size_t width, bool colors);

/*
 * Append the redraw line of `hq job progress` / `--progress` (no newline):
 *   "\r\x1b[2K[<bar>] c/N jobs, d/M tasks (2 RUNNING, 1 FINISHED)"
 * d counts finished, failed, canceled and aborted tasks. The parenthesis
 * lists the non-zero counts in the order RUNNING, FINISHED, FAILED,
 * CANCELED, ABORTED and is left out (the line then ends in "tasks ") when
 * all are zero. With 'colors' the state names and bar segments are
 * coloured; without, the line has no SGR codes.
 */
void hq_progress_line(struct hq_buf *out, const struct hq_progress *p,
    bool colors);

#endif
