/* SPDX-License-Identifier: MIT */
/* stderr logger with RFC 3339 UTC timestamps. */
#include "common/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static enum hq_log_level log_level = HQ_LOG_INFO;
static int log_millis;

static const char *const log_names[] = { "ERROR", "WARN", "INFO", "DEBUG",
	"TRACE" };

void
hq_log_init(int debug)
{
	const char *e = getenv("HQ_DEBUG");
	const char *r = getenv("RUST_LOG");

	if (debug || (e != NULL && *e != '\0' && strcmp(e, "0") != 0)) {
		log_level = HQ_LOG_DEBUG;
		log_millis = 1;
	}
	if (r != NULL && *r != '\0') {
		if (strcasestr(r, "trace"))
			log_level = HQ_LOG_TRACE;
		else if (strcasestr(r, "debug"))
			log_level = HQ_LOG_DEBUG;
		else if (strcasestr(r, "info"))
			log_level = HQ_LOG_INFO;
		else if (strcasestr(r, "warn"))
			log_level = HQ_LOG_WARN;
		else if (strcasestr(r, "error"))
			log_level = HQ_LOG_ERROR;
	}
}

void
hq_log_set_level(enum hq_log_level level)
{
	log_level = level;
}

int
hq_log_enabled(enum hq_log_level level)
{
	return level <= log_level;
}

static void log_vwrite(enum hq_log_level, const char *, va_list, const char *)
    __attribute__((format(printf, 2, 0)));

static void
log_vwrite(enum hq_log_level level, const char *fmt, va_list ap,
    const char *suffix)
{
	char ts[48], msg[4096];
	struct timespec now;
	struct tm tm;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	n = strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
	if (log_millis)
		snprintf(ts + n, sizeof ts - n, ".%03ldZ",
		    now.tv_nsec / 1000000);
	else
		snprintf(ts + n, sizeof ts - n, "Z");
	vsnprintf(msg, sizeof msg, fmt, ap);
	/* One fprintf so concurrent writers do not interleave mid-line. */
	fprintf(stderr, "%s %s %s%s%s\n", ts, log_names[level], msg,
	    suffix ? ": " : "", suffix ? suffix : "");
}

void
hq_log(enum hq_log_level level, const char *fmt, ...)
{
	va_list ap;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	log_vwrite(level, fmt, ap, NULL);
	va_end(ap);
}

void
hq_fatal(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(HQ_LOG_ERROR, fmt, ap, strerror(saved));
	va_end(ap);
	exit(1);
}

void
hq_fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(HQ_LOG_ERROR, fmt, ap, NULL);
	va_end(ap);
	exit(1);
}
