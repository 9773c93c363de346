/* SPDX-License-Identifier: MIT */
/*
 * The task of the submit-to-start benchmark: as its first action, write the
 * wall clock (CLOCK_REALTIME, nanoseconds since the epoch) to FILE.
 *
 *   stamp FILE
 *
 * The number goes to FILE.tmp, which is then renamed to FILE, so a reader
 * polling for FILE never sees a partial number.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	struct timespec ts;
	char text[32], tmp[4096];
	int fd = -1, len, rc = 1;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (argc != 2) {
		fprintf(stderr, "usage: stamp FILE\n");
		return 2;
	}
	len = snprintf(text, sizeof text, "%lld\n",
	    (long long)ts.tv_sec * 1000000000ll + (long long)ts.tv_nsec);
	if (snprintf(tmp, sizeof tmp, "%s.tmp", argv[1]) >= (int)sizeof tmp) {
		fprintf(stderr, "stamp: %s: path too long\n", argv[1]);
		goto out;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, text, (size_t)len) != len) {
		fprintf(stderr, "stamp: %s: %s\n", tmp, strerror(errno));
		goto out;
	}
	if (close(fd) != 0 || rename(tmp, argv[1]) != 0) {
		fd = -1;
		fprintf(stderr, "stamp: %s: %s\n", argv[1], strerror(errno));
		goto out;
	}
	fd = -1;
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	return rc;
}
