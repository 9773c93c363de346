/* SPDX-License-Identifier: MIT */
/*
 * The spawn floor for `make bench`: run a program N times with posix_spawn,
 * at most P at a time, stdin/stdout/stderr on /dev/null (as `hq submit
 * --stdout none --stderr none`), and print the elapsed wall time as JSON.
 *
 *   floor N [P [PROGRAM [ARG...]]]     P defaults to 2, PROGRAM to /bin/true
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static uint64_t
floor_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int
floor_parse_count(const char *s, unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v == 0 || v > 100000000ul)
		return -EINVAL;
	*out = v;
	return 0;
}

int
main(int argc, char **argv)
{
	static char *default_argv[] = { (char *)"/bin/true", NULL };
	posix_spawn_file_actions_t fa;
	unsigned long n, par = 2, started = 0, done = 0, failed = 0;
	unsigned long inflight = 0;
	char **targv = default_argv;
	uint64_t t0, t1;
	int devnull, rc = 1;

	if (argc < 2 || floor_parse_count(argv[1], &n) != 0 ||
	    (argc > 2 && floor_parse_count(argv[2], &par) != 0)) {
		fprintf(stderr,
		    "usage: floor N [PARALLEL [PROGRAM [ARG...]]]\n"
		    "  N, PARALLEL: integers >= 1\n");
		return 2;
	}
	if (argc > 3)
		targv = argv + 3;
	if ((devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0) {
		fprintf(stderr, "floor: /dev/null: %s\n", strerror(errno));
		return 1;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, devnull, 0);
	posix_spawn_file_actions_adddup2(&fa, devnull, 1);
	posix_spawn_file_actions_adddup2(&fa, devnull, 2);

	t0 = floor_now_ns();
	while (done < n) {
		int status, err;
		pid_t pid;

		while (inflight < par && started < n) {
			err = posix_spawn(&pid, targv[0], &fa, NULL, targv,
			    environ);
			if (err != 0) {
				fprintf(stderr, "floor: %s: %s\n", targv[0],
				    strerror(err));
				goto out;
			}
			started++;
			inflight++;
		}
		pid = waitpid(-1, &status, 0);
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "floor: waitpid: %s\n",
			    strerror(errno));
			goto out;
		}
		inflight--;
		done++;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed++;
	}
	t1 = floor_now_ns();
	printf("{\"tasks\": %lu, \"parallel\": %lu, \"failed\": %lu, "
	       "\"elapsed_ns\": %" PRIu64 "}\n",
	    n, par, failed, t1 - t0);
	rc = failed == 0 ? 0 : 1;
out:
	posix_spawn_file_actions_destroy(&fa);
	close(devnull);
	return rc;
}
