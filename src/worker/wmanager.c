/* SPDX-License-Identifier: MIT */
/*
 * The batch system around a worker (spec 2.10): the remaining walltime of
 * its allocation, asked once at start-up from `scontrol show job <id>`
 * (Slurm) or `qstat -f <id> -F json` (PBS). The worker has no loop yet,
 * so the command runs synchronously, with a timeout.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/batch.h"
#include "common/buf.h"
#include "common/log.h"
#include "worker/worker.h"

#define WMANAGER_TIMEOUT_MS 10000

extern char **environ;

/* Run argv, collect its stdout; 0 if it exited with 0 in time. */
static int
wmanager_run(char *const argv[], struct hq_buf *out, struct hq_errbuf *eb)
{
	posix_spawn_file_actions_t fa;
	uint64_t deadline = hq_mono_us() + WMANAGER_TIMEOUT_MS * 1000ull;
	int fds[2], status = 0, rc;
	char tmp[4096];
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) != 0)
		return hq_errf(eb, -errno, "pipe: %s", strerror(errno));
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	if (rc != 0) {
		close(fds[0]);
		return hq_errf(eb, -rc, "cannot run %s: %s", argv[0],
		    strerror(rc));
	}
	for (;;) {
		struct pollfd p = { fds[0], POLLIN, 0 };
		uint64_t now = hq_mono_us();
		ssize_t n;

		if (now >= deadline) {
			kill(pid, SIGKILL);
			break;
		}
		if (poll(&p, 1, (int)((deadline - now) / 1000) + 1) <= 0)
			continue;
		n = read(fds[0], tmp, sizeof tmp);
		if (n > 0)
			hq_buf_append(out, tmp, (size_t)n);
		else if (n == 0 || errno != EINTR)
			break;
	}
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	hq_buf_append(out, "", 1);
	if (hq_mono_us() >= deadline)
		return hq_errf(eb, HQ_ETIMEOUT, "%s did not answer within %d s",
		    argv[0], WMANAGER_TIMEOUT_MS / 1000);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return hq_errf(eb, HQ_EINVAL, "%s failed (status %d)", argv[0],
		    status);
	return 0;
}

uint64_t
worker_manager_time_limit(const char *manager, const char *allocation_id)
{
	char *slurm[] = { (char *)"scontrol", (char *)"show", (char *)"job",
		(char *)allocation_id, NULL };
	char *pbs[] = { (char *)"qstat", (char *)"-f", (char *)allocation_id,
		(char *)"-F", (char *)"json", NULL };
	bool is_slurm = strcmp(manager, "SLURM") == 0;
	struct hq_errbuf eb;
	struct hq_buf out;
	uint64_t ms = 0;
	int rc;

	hq_buf_init(&out);
	rc = wmanager_run(is_slurm ? slurm : pbs, &out, &eb);
	if (rc == 0)
		rc = is_slurm
		    ? hq_batch_slurm_remaining((const char *)out.data, &ms, &eb)
		    : hq_batch_pbs_remaining((const char *)out.data,
			  allocation_id, &ms, &eb);
	if (rc != 0) {
		hq_warn("Cannot read the time limit of allocation %s: %s",
		    allocation_id, eb.msg);
		ms = 0;
	}
	hq_buf_fini(&out);
	return ms;
}
