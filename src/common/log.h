/* SPDX-License-Identifier: MIT */
/*
 * Logging to stderr in HyperQueue's env_logger shape:
 * "2024-05-01T10:00:00Z INFO message" (milliseconds with --debug).
 */
#ifndef HQ_LOG_H
#define HQ_LOG_H

#include "common/util.h"

enum hq_log_level {
	HQ_LOG_ERROR = 0,
	HQ_LOG_WARN,
	HQ_LOG_INFO,
	HQ_LOG_DEBUG,
	HQ_LOG_TRACE,
};

/*
 * Set the level from the environment: HQ_DEBUG or 'debug' makes it DEBUG
 * with millisecond timestamps; RUST_LOG (error|warn|info|debug|trace)
 * overrides the level. Call once at start-up.
 */
void hq_log_init(int debug);
void hq_log_set_level(enum hq_log_level level);
int hq_log_enabled(enum hq_log_level level);

void hq_log(enum hq_log_level level, const char *fmt, ...) HQ_PRINTF(2, 3);
#define hq_error(...) hq_log(HQ_LOG_ERROR, __VA_ARGS__)
#define hq_warn(...)  hq_log(HQ_LOG_WARN, __VA_ARGS__)
#define hq_info(...)  hq_log(HQ_LOG_INFO, __VA_ARGS__)
#define hq_debug(...)                                      \
	do {                                               \
		if (hq_log_enabled(HQ_LOG_DEBUG))          \
			hq_log(HQ_LOG_DEBUG, __VA_ARGS__); \
	} while (0)

/* Log and exit(1); hq_fatal appends strerror(errno). Startup code only. */
HQ_NORETURN void hq_fatal(const char *fmt, ...) HQ_PRINTF(1, 2);
HQ_NORETURN void hq_fatalx(const char *fmt, ...) HQ_PRINTF(1, 2);

#endif
