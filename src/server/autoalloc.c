/* SPDX-License-Identifier: MIT */
/*
 * Automatic allocation on the server's event loop: the decision loop's
 * actions carried out with sbatch/qsub, status polls with squeue/qstat,
 * cancels with scancel/qdel. Batch commands are children started with
 * posix_spawn and watched with ev_child (on the default loop, right after
 * the spawn: libev reaps children only from the loop, so no exit is lost)
 * and ev_io on non-blocking pipes. The server never waits for them.
 *
 * Allocation directories: <instance>/autoalloc/<queue>[-<name>]/<NNN>/ with
 * hq-submit.sh, jobid, and the job's stdout and stderr.
 */
#include "server/autoalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/batch.h"
#include "common/fmt.h"
#include "common/log.h"
#include "common/resource.h"
#include "server/alloc_plan.h"
#include "server/server.h"

/* Output kept from one command (more is dropped). */
#define AA_MAX_OUTPUT (1u << 20)
/* Inactive allocation directories kept per queue (spec 2.11). */
#define AA_KEEP_DIRS 20
/* Status poll failures after which an allocation is assumed finished. */
#define AA_MAX_STATUS_ERRORS_QUEUED  10
#define AA_MAX_STATUS_ERRORS_RUNNING 20
/* How long the server waits for batch commands when it exits. */
#define AA_EXIT_WAIT_MS 5000

extern char **environ;

struct autoalloc;
struct aa_child;

typedef void aa_done_fn(struct autoalloc *aa, struct aa_child *ch);

enum aa_job {
	AA_SUBMIT = 0,
	AA_STATUS,
	AA_CANCEL,
	AA_DRY_RUN,
};

/* A batch command in flight and what to do with its result. */
struct aa_child {
	struct aa_child *next, *prev;
	struct autoalloc *aa;
	enum aa_job job;
	char *what; /* program name, for messages */
	pid_t pid;
	ev_child child_w;
	ev_io out_w, err_w;
	ev_timer timeout_w;
	int out_fd, err_fd;
	struct hq_buf out, err;
	bool exited, timed_out;
	int status;
	/* context */
	uint32_t queue_id;
	enum hq_manager manager;
	uint32_t workers;
	char *dir;
	char **ids;
	uint32_t nids;
	uint64_t client_id;
	int req; /* enum hq_alloc_req_kind of a dry run */
	struct hq_alloc_params params;
	bool rm_dir; /* cancel after a dry run: remove its directory */
};

struct autoalloc {
	struct server *s;
	struct hq_alloc_tuning tuning;
	uint64_t *delays;
	uint64_t refresh_ms, tick_ms, max_delay_ms, cmd_timeout_ms;
	ev_timer tick_w, kick_w;
	uint64_t last_plan_us;
	uint64_t seen_nevents;
	bool dirty;
	bool stopping;
	struct aa_child *children;
	struct hq_alloc_actions acts;
	char *hq_exe;
};

static void aa_kick(struct autoalloc *aa);

/* ---- tuning -------------------------------------------------------------- */

static uint64_t
aa_env_ms(const char *name, uint64_t dflt)
{
	const char *v = getenv(name);
	uint64_t out;

	if (v == NULL || *v == '\0')
		return dflt;
	if (hq_parse_u64(v, &out, NULL) != 0) {
		hq_warn("%s=\"%s\" is not a number; using %llu", name, v,
		    (unsigned long long)dflt);
		return dflt;
	}
	return out;
}

static void
aa_tuning(struct autoalloc *aa)
{
	const char *v = getenv("HQ_AUTOALLOC_SUBMIT_DELAYS_MS");

	hq_alloc_tuning_default(&aa->tuning);
	aa->refresh_ms =
	    aa_env_ms("HQ_AUTOALLOC_REFRESH_INTERVAL_MS", 30 * 60 * 1000);
	aa->max_delay_ms =
	    aa_env_ms("HQ_AUTOALLOC_MAX_SCHEDULE_DELAY_MS", 30 * 1000);
	aa->tick_ms =
	    aa_env_ms("HQ_AUTOALLOC_SCHEDULE_TICK_INTERVAL_MS", 5 * 1000);
	aa->cmd_timeout_ms =
	    aa_env_ms("HQ_AUTOALLOC_COMMAND_TIMEOUT_MS", 60 * 1000);
	aa->tuning.max_alloc_fails =
	    (uint32_t)aa_env_ms("HQ_AUTOALLOC_MAX_ALLOCATION_FAILS",
		aa->tuning.max_alloc_fails);
	aa->tuning.max_submit_fails =
	    (uint32_t)aa_env_ms("HQ_AUTOALLOC_MAX_SUBMISSION_FAILS",
		aa->tuning.max_submit_fails);
	if (aa->tick_ms == 0)
		aa->tick_ms = 1;
	if (aa->refresh_ms == 0)
		aa->refresh_ms = 1;
	if (v != NULL && *v != '\0') {
		char *copy = hq_xstrdup(v), *tok, *save = NULL;
		uint32_t n = 0;
		bool ok = true;

		aa->delays = hq_xcalloc(strlen(v) + 1, sizeof *aa->delays);
		for (tok = strtok_r(copy, ",", &save); tok != NULL && ok;
		     tok = strtok_r(NULL, ",", &save))
			ok = hq_parse_u64(tok, &aa->delays[n++], NULL) == 0;
		if (ok && n > 0) {
			aa->tuning.delays_ms = aa->delays;
			aa->tuning.ndelays = n;
		} else {
			hq_warn("HQ_AUTOALLOC_SUBMIT_DELAYS_MS=\"%s\" is not a "
				"list of numbers; using the defaults",
			    v);
		}
		free(copy);
	}
}

/* ---- children
 * ----------------------------------------------------------------- */

static void
aa_child_free(struct aa_child *ch)
{
	uint32_t i;

	free(ch->what);
	hq_buf_fini(&ch->out);
	hq_buf_fini(&ch->err);
	free(ch->dir);
	for (i = 0; i < ch->nids; i++)
		free(ch->ids[i]);
	free(ch->ids);
	hq_alloc_params_fini(&ch->params);
	free(ch);
}

static void
aa_child_unlink(struct autoalloc *aa, struct aa_child *ch)
{
	if (ch->prev)
		ch->prev->next = ch->next;
	else
		aa->children = ch->next;
	if (ch->next)
		ch->next->prev = ch->prev;
}

static void aa_child_done(struct aa_child *ch);

/* Both pipes at EOF and the process reaped: the result is complete. */
static void
aa_child_check(struct aa_child *ch)
{
	struct autoalloc *aa = ch->aa;

	if (!ch->exited || ch->out_fd >= 0 || ch->err_fd >= 0)
		return;
	ev_timer_stop(aa->s->loop, &ch->timeout_w);
	aa_child_unlink(aa, ch);
	aa_child_done(ch);
	aa_child_free(ch);
}

static void
aa_pipe_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct aa_child *ch = w->data;
	bool is_out = w == &ch->out_w;
	int *fd = is_out ? &ch->out_fd : &ch->err_fd;
	struct hq_buf *b = is_out ? &ch->out : &ch->err;
	char tmp[16384];
	ssize_t n;

	(void)revents;
	for (;;) {
		n = read(*fd, tmp, sizeof tmp);
		if (n > 0) {
			if (b->len + (size_t)n <= AA_MAX_OUTPUT)
				hq_buf_append(b, tmp, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		break; /* EOF or error */
	}
	ev_io_stop(loop, w);
	close(*fd);
	*fd = -1;
	aa_child_check(ch);
}

static void
aa_exit_cb(struct ev_loop *loop, ev_child *w, int revents)
{
	struct aa_child *ch = w->data;

	(void)revents;
	ev_child_stop(loop, w);
	ch->exited = true;
	ch->status = w->rstatus;
	if (ch->out_fd >= 0 || ch->err_fd >= 0) {
		/* Something it left behind may hold the pipes: give the
		 * output a second, not more. */
		ev_timer_stop(loop, &ch->timeout_w);
		ev_timer_set(&ch->timeout_w, 1.0, 0.);
		ev_timer_start(loop, &ch->timeout_w);
	}
	aa_child_check(ch);
}

static void
aa_close_pipe(struct ev_loop *loop, ev_io *w, int *fd)
{
	if (*fd < 0)
		return;
	ev_io_stop(loop, w);
	close(*fd);
	*fd = -1;
}

static void
aa_timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct aa_child *ch = w->data;

	(void)revents;
	if (ch->exited) {
		aa_close_pipe(loop, &ch->out_w, &ch->out_fd);
		aa_close_pipe(loop, &ch->err_w, &ch->err_fd);
		aa_child_check(ch);
		return;
	}
	hq_warn("%s (pid %d) did not finish within %llu ms; killing it",
	    ch->what, (int)ch->pid, (unsigned long long)ch->aa->cmd_timeout_ms);
	ch->timed_out = true;
	kill(-ch->pid, SIGKILL);
	kill(ch->pid, SIGKILL);
}

static int
aa_pipe(int fds[2])
{
	if (pipe2(fds, O_CLOEXEC) != 0)
		return -errno;
	if (fcntl(fds[0], F_SETFL, O_NONBLOCK) != 0) {
		int rc = -errno;

		close(fds[0]);
		close(fds[1]);
		return rc;
	}
	return 0;
}

/*
 * Start argv[0] (found through PATH) in 'cwd' (NULL: ours), in a process
 * group of its own, stdin from /dev/null, stdout and stderr into pipes.
 * Takes ch: on success it is in flight and aa_child_done() gets it; on
 * failure it is freed and the message is in eb.
 */
static int
aa_spawn(struct autoalloc *aa, struct aa_child *ch, char *const argv[],
    const char *cwd, struct hq_errbuf *eb)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	int out[2] = { -1, -1 }, err[2] = { -1, -1 }, rc;
	sigset_t none, all;
	pid_t pid;

	ch->aa = aa;
	ch->what = hq_xstrdup(argv[0]);
	ch->out_fd = ch->err_fd = -1;
	hq_buf_init(&ch->out);
	hq_buf_init(&ch->err);
	if ((rc = aa_pipe(out)) != 0 || (rc = aa_pipe(err)) != 0) {
		rc = hq_errf(eb, rc, "cannot run %s: pipe: %s", argv[0],
		    hq_strerror(rc));
		goto fail;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, err[1], 2);
	/* Nothing else of ours: a batch command may leave processes behind
	 * (qsub's job), which must not hold the journal or our sockets. */
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	if (cwd != NULL)
		posix_spawn_file_actions_addchdir_np(&fa, cwd);
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr,
	    POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
		POSIX_SPAWN_SETPGROUP);
	rc = posix_spawnp(&pid, argv[0], &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (rc != 0) {
		rc = hq_errf(eb, -rc, "cannot run %s: %s", argv[0],
		    strerror(rc));
		goto fail;
	}
	close(out[1]);
	close(err[1]);
	ch->pid = pid;
	ch->out_fd = out[0];
	ch->err_fd = err[0];
	/* Right after the spawn, before the loop runs again: libev reaps
	 * children only from the loop, so this exit cannot be missed. */
	ev_child_init(&ch->child_w, aa_exit_cb, pid, 0);
	ch->child_w.data = ch;
	ev_child_start(aa->s->loop, &ch->child_w);
	ev_io_init(&ch->out_w, aa_pipe_cb, ch->out_fd, EV_READ);
	ch->out_w.data = ch;
	ev_io_start(aa->s->loop, &ch->out_w);
	ev_io_init(&ch->err_w, aa_pipe_cb, ch->err_fd, EV_READ);
	ch->err_w.data = ch;
	ev_io_start(aa->s->loop, &ch->err_w);
	ev_timer_init(&ch->timeout_w, aa_timeout_cb,
	    (double)aa->cmd_timeout_ms / 1000.0, 0.);
	ch->timeout_w.data = ch;
	ev_timer_start(aa->s->loop, &ch->timeout_w);
	ch->next = aa->children;
	ch->prev = NULL;
	if (aa->children)
		aa->children->prev = ch;
	aa->children = ch;
	hq_debug("autoalloc: started %s (pid %d)", argv[0], (int)pid);
	return 0;
fail:
	for (int i = 0; i < 2; i++) {
		if (out[i] >= 0)
			close(out[i]);
		if (err[i] >= 0)
			close(err[i]);
	}
	aa_child_free(ch);
	return rc;
}

static char *
aa_trimmed(const struct hq_buf *b)
{
	size_t lo = 0, hi = b->len;

	while (lo < hi &&
	    (b->data[lo] == ' ' || b->data[lo] == '\n' || b->data[lo] == '\t' ||
		b->data[lo] == '\r'))
		lo++;
	while (hi > lo &&
	    (b->data[hi - 1] == ' ' || b->data[hi - 1] == '\n' ||
		b->data[hi - 1] == '\t' || b->data[hi - 1] == '\r'))
		hi--;
	return hq_xstrndup((const char *)b->data + lo, hi - lo);
}

/* NUL-terminated stdout of a finished child. */
static const char *
aa_stdout(struct aa_child *ch)
{
	hq_buf_reserve(&ch->out, 1);
	ch->out.data[ch->out.len] = '\0';
	return (const char *)ch->out.data;
}

/* Continuation lines of a multi-line message indented by four spaces, so
 * that they line up under "Caused by:". */
static char *
aa_indent(char *s)
{
	struct hq_buf b;
	char *p, *out;

	if (strchr(s, '\n') == NULL)
		return s;
	hq_buf_init(&b);
	for (p = s; *p != '\0'; p++) {
		hq_buf_append(&b, p, 1);
		if (*p == '\n')
			hq_buf_append_str(&b, "    ");
	}
	out = hq_xstrndup((const char *)b.data, b.len);
	hq_buf_fini(&b);
	free(s);
	return out;
}

/* Did the command fail? If so, a message for humans (caller frees). */
static char *
aa_child_failure(const struct aa_child *ch)
{
	char *err, *msg;

	if (!ch->timed_out && WIFEXITED(ch->status) &&
	    WEXITSTATUS(ch->status) == 0)
		return NULL;
	err = aa_trimmed(ch->err.len > 0 ? &ch->err : &ch->out);
	if (ch->timed_out)
		msg = hq_xprintf("%s did not finish within %llu s and was "
				 "killed%s%s",
		    ch->what, (unsigned long long)ch->aa->cmd_timeout_ms / 1000,
		    *err ? ": " : "", err);
	else if (WIFSIGNALED(ch->status))
		msg = hq_xprintf("%s was killed by signal %d%s%s", ch->what,
		    WTERMSIG(ch->status), *err ? ": " : "", err);
	else
		msg = hq_xprintf("%s failed with exit code %d%s%s", ch->what,
		    WEXITSTATUS(ch->status), *err ? ": " : "", err);
	free(err);
	return aa_indent(msg);
}

/* ---- files
 * ----------------------------------------------------------------------- */

static int
aa_mkdirs(const char *path, struct hq_errbuf *eb)
{
	char *p = hq_xstrdup(path), *s;
	int rc = 0;

	for (s = p + 1; rc == 0; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;

		*s = '\0';
		if (mkdir(p, 0700) != 0 && errno != EEXIST)
			rc = hq_errf(eb, -errno,
			    "cannot create directory %s: %s", p,
			    strerror(errno));
		*s = c;
		if (c == '\0')
			break;
	}
	free(p);
	return rc;
}

static int
aa_write_file(const char *path, const void *data, size_t len, mode_t mode,
    struct hq_errbuf *eb)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	const char *p = data;
	int rc = 0;

	if (fd < 0)
		return hq_errf(eb, -errno, "cannot write %s: %s", path,
		    strerror(errno));
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = hq_errf(eb, -errno, "cannot write %s: %s", path,
			    strerror(errno));
			break;
		}
		p += n;
		len -= (size_t)n;
	}
	if (close(fd) != 0 && rc == 0)
		rc = hq_errf(eb, -errno, "cannot write %s: %s", path,
		    strerror(errno));
	return rc;
}

static int
aa_rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void
aa_rmtree(const char *dir)
{
	nftw(dir, aa_rm_cb, 8, FTW_DEPTH | FTW_PHYS);
}

/* ---- events
 * ----------------------------------------------------------------------- */

static void
aa_event(struct hq_event *ev, enum hq_alloc_ev_kind kind, uint32_t queue_id)
{
	memset(ev, 0, sizeof *ev);
	ev->kind = HQ_EV_ALLOC;
	ev->time_ms = hq_now_ms();
	ev->u.alloc.kind = kind;
	ev->u.alloc.queue_id = queue_id;
}

static void
aa_emit(struct autoalloc *aa, struct hq_event *ev)
{
	struct hq_errbuf eb;

	/* Only events checked against the state get here. */
	if (server_emit(aa->s, ev, &eb) != 0)
		hq_error("internal error: autoalloc event %s rejected: %s",
		    hq_event_kind_name(ev), eb.msg);
	aa_kick(aa);
}

static void
aa_emit_finished(struct autoalloc *aa, uint32_t queue_id, const char *id,
    enum hq_alloc_end end)
{
	struct hq_event ev;

	aa_event(&ev, HQ_AEV_FINISHED, queue_id);
	ev.u.alloc.allocation_id = (char *)id;
	ev.u.alloc.end = end;
	aa_emit(aa, &ev);
}

/* ---- cancel
 * ------------------------------------------------------------------------- */

static void
aa_cancel_done(struct autoalloc *aa, struct aa_child *ch)
{
	char *fail = aa_child_failure(ch);

	(void)aa;
	if (fail != NULL)
		hq_warn("Cancelling allocation(s) failed: %s", fail);
	if (ch->rm_dir && ch->dir != NULL)
		aa_rmtree(ch->dir);
	free(fail);
}

/* scancel/qdel the ids; with rm_dir, remove 'dir' afterwards. */
static void
aa_cancel(struct autoalloc *aa, enum hq_manager m, char *const *ids, uint32_t n,
    const char *dir)
{
	struct aa_child *ch;
	struct hq_errbuf eb;
	char **argv;
	uint32_t i;

	if (n == 0)
		return;
	ch = hq_xcalloc(1, sizeof *ch);
	ch->job = AA_CANCEL;
	ch->manager = m;
	ch->ids = hq_xcalloc(n, sizeof *ch->ids);
	for (i = 0; i < n; i++)
		ch->ids[i] = hq_xstrdup(ids[i]);
	ch->nids = n;
	if (dir != NULL) {
		ch->dir = hq_xstrdup(dir);
		ch->rm_dir = true;
	}
	argv = hq_xcalloc(n + 2, sizeof *argv);
	argv[0] = (char *)(m == HQ_MANAGER_SLURM ? "scancel" : "qdel");
	for (i = 0; i < n; i++)
		argv[i + 1] = ids[i];
	if (aa_spawn(aa, ch, argv, NULL, &eb) != 0) {
		hq_warn("Cancelling allocation(s) failed: %s", eb.msg);
		if (dir != NULL)
			aa_rmtree(dir);
	}
	free(argv);
}

/* ---- submit
 * ------------------------------------------------------------------------- */

static void
aa_script_job(struct autoalloc *aa, struct hq_batch_job *j,
    const struct hq_alloc_params *p, uint32_t workers, const char *name,
    const char *dir, bool dry_run)
{
	memset(j, 0, sizeof *j);
	j->p = p;
	j->workers = workers;
	j->name = name;
	j->dir = dir;
	j->hq_exe = aa->hq_exe;
	j->server_dir = aa->s->instance_dir;
	j->rust_log = getenv("RUST_LOG");
	j->dry_run = dry_run;
}

/* Write hq-submit.sh into dir and start sbatch/qsub on it. */
static int
aa_start_submit(struct autoalloc *aa, struct aa_child *ch,
    const struct hq_alloc_params *p, uint32_t workers, const char *name,
    const char *dir, bool dry_run, struct hq_errbuf *eb)
{
	char *const slurm[] = { (char *)"sbatch", (char *)"hq-submit.sh",
		NULL };
	char *const pbs[] = { (char *)"qsub", (char *)"hq-submit.sh", NULL };
	struct hq_batch_job j;
	struct hq_buf script;
	char *path;
	int rc;

	hq_buf_init(&script);
	aa_script_job(aa, &j, p, workers, name, dir, dry_run);
	hq_batch_script(&script, &j);
	path = hq_xprintf("%s/hq-submit.sh", dir);
	rc = aa_write_file(path, script.data, script.len, 0700, eb);
	free(path);
	hq_buf_fini(&script);
	if (rc != 0) {
		aa_child_free(ch);
		return rc;
	}
	return aa_spawn(aa, ch, p->manager == HQ_MANAGER_SLURM ? slurm : pbs,
	    dir, eb);
}

static void
aa_submit_failed(struct autoalloc *aa, uint32_t queue_id, const char *msg)
{
	struct hq_event ev;

	hq_warn("Allocation queue %u: submitting an allocation failed: %s",
	    queue_id, msg);
	/* Stopping: the stop record is written; nothing more goes in. */
	if (aa->stopping || hq_alloc_queue(aa->s->st->alloc, queue_id) == NULL)
		return;
	aa_event(&ev, HQ_AEV_SUBMIT_FAILED, queue_id);
	ev.u.alloc.message = (char *)msg;
	aa_emit(aa, &ev);
}

static void
aa_submit_done(struct autoalloc *aa, struct aa_child *ch)
{
	struct hq_aqueue *q = hq_alloc_queue(aa->s->st->alloc, ch->queue_id);
	char *fail = aa_child_failure(ch), *id = NULL, *path;
	struct hq_errbuf eb;
	struct hq_event ev;

	if (q != NULL) {
		q->inflight--;
		q->inflight_workers -= ch->workers;
	}
	if (fail == NULL &&
	    hq_batch_parse_submit(ch->manager, aa_stdout(ch), &id, &eb) != 0)
		fail = hq_xstrdup(eb.msg);
	if (fail != NULL) {
		aa_submit_failed(aa, ch->queue_id, fail);
		free(fail);
		return;
	}
	path = hq_xprintf("%s/jobid", ch->dir);
	if (aa_write_file(path, id, strlen(id), 0600, &eb) != 0)
		hq_warn("%s", eb.msg);
	free(path);
	if (q == NULL || aa->stopping) {
		/* Removed or stopping meanwhile: nobody wants it. */
		aa_cancel(aa, ch->manager, &id, 1, NULL);
		free(id);
		return;
	}
	hq_info("Allocation queue %u: allocation %s submitted (%u worker%s)",
	    q->id, id, ch->workers, ch->workers == 1 ? "" : "s");
	aa_event(&ev, HQ_AEV_SUBMITTED, q->id);
	ev.u.alloc.allocation_id = id;
	ev.u.alloc.worker_count = ch->workers;
	ev.u.alloc.workdir = ch->dir;
	aa_emit(aa, &ev);
	free(id);
}

static char *
aa_queue_dir(struct autoalloc *aa, const struct hq_aqueue *q)
{
	return hq_xprintf("%s/autoalloc/%u%s%s", aa->s->instance_dir, q->id,
	    q->p.name ? "-" : "", q->p.name ? q->p.name : "");
}

static void
aa_submit(struct autoalloc *aa, struct hq_aqueue *q, uint32_t workers)
{
	uint32_t n = q->nsubmits + q->inflight + 1;
	char *qdir = aa_queue_dir(aa, q), *dir, *name;
	struct aa_child *ch;
	struct hq_errbuf eb;

	dir = hq_xprintf("%s/%03u", qdir, n);
	name = q->p.name ? hq_xprintf("%s-%u", q->p.name, n)
			 : hq_xprintf("hq-%u-%u", q->id, n);
	free(qdir);
	if (aa_mkdirs(dir, &eb) != 0) {
		aa_submit_failed(aa, q->id, eb.msg);
		goto out;
	}
	ch = hq_xcalloc(1, sizeof *ch);
	ch->job = AA_SUBMIT;
	ch->queue_id = q->id;
	ch->manager = q->p.manager;
	ch->workers = workers;
	ch->dir = hq_xstrdup(dir);
	if (aa_start_submit(aa, ch, &q->p, workers, name, dir, false, &eb) !=
	    0) {
		aa_submit_failed(aa, q->id, eb.msg);
		goto out;
	}
	q->inflight++;
	q->inflight_workers += workers;
	hq_debug("Allocation queue %u: submitting %s (%u workers)", q->id, name,
	    workers);
out:
	free(dir);
	free(name);
}

/* ---- status polls
 * ------------------------------------------------------------------- */

static const struct hq_batch_status *
aa_find_status(const struct hq_batch_status *st, uint32_t n, const char *id)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (strcmp(st[i].id, id) == 0)
			return &st[i];
	return NULL;
}

static bool
aa_stderr_has(struct aa_child *ch, const char *text)
{
	hq_buf_reserve(&ch->err, 1);
	ch->err.data[ch->err.len] = '\0';
	return strstr((const char *)ch->err.data, text) != NULL;
}

static void
aa_status_done(struct autoalloc *aa, struct aa_child *ch)
{
	struct hq_aqueue *q = hq_alloc_queue(aa->s->st->alloc, ch->queue_id);
	struct hq_batch_status *st = NULL;
	uint32_t n = 0, i;
	struct hq_errbuf eb;
	char *fail;
	bool known = true; /* the poll says something about every id */

	if (q == NULL || aa->stopping)
		return;
	q->refreshing = false;
	q->next_refresh_us = hq_mono_us() + aa->refresh_ms * 1000;
	fail = aa_child_failure(ch);
	if (ch->manager == HQ_MANAGER_SLURM) {
		if (fail != NULL && aa_stderr_has(ch, "Invalid job id")) {
			/* None of the ids is known any more. */
			free(fail);
			fail = NULL;
		} else if (fail == NULL &&
		    hq_batch_parse_squeue(aa_stdout(ch), &st, &n, &eb) != 0) {
			fail = hq_xstrdup(eb.msg);
		}
	} else {
		/* qstat exits non-zero when some id is unknown, and still
		 * prints the others. */
		if (ch->out.len > 0 &&
		    hq_batch_parse_qstat(aa_stdout(ch), &st, &n, &eb) == 0) {
			free(fail);
			fail = NULL;
		} else if (fail != NULL && aa_stderr_has(ch, "Unknown Job")) {
			free(fail);
			fail = NULL;
		} else if (fail == NULL) {
			fail = hq_xstrdup("qstat printed no job status");
		}
	}
	if (fail != NULL) {
		hq_warn("Allocation queue %u: status poll failed: %s", q->id,
		    fail);
		known = false;
	}
	for (i = 0; i < ch->nids; i++) {
		struct hq_allocation *a = hq_aqueue_allocation(q, ch->ids[i]);
		const struct hq_batch_status *s;
		uint32_t limit;

		if (a == NULL || !hq_allocation_active(a))
			continue;
		s = known ? aa_find_status(st, n, a->id) : NULL;
		if (s == NULL) {
			limit = a->status == HQ_ALLOC_QUEUED
			    ? AA_MAX_STATUS_ERRORS_QUEUED
			    : AA_MAX_STATUS_ERRORS_RUNNING;
			if (++a->status_errors < limit)
				continue;
			hq_warn("Allocation %s: no status after %u polls; "
				"assuming it finished",
			    a->id, a->status_errors);
			aa_emit_finished(aa, q->id, a->id,
			    HQ_ALLOC_END_FINISHED);
			continue;
		}
		a->status_errors = 0;
		switch (s->state) {
		case HQ_BJ_QUEUED:
			break;
		case HQ_BJ_RUNNING:
			if (a->status == HQ_ALLOC_QUEUED) {
				struct hq_event ev;

				aa_event(&ev, HQ_AEV_STARTED, q->id);
				ev.u.alloc.allocation_id = a->id;
				aa_emit(aa, &ev);
			}
			break;
		case HQ_BJ_FINISHED:
		case HQ_BJ_FAILED:
			hq_info("Allocation %s %s", a->id,
			    s->state == HQ_BJ_FINISHED ? "finished" : "failed");
			aa_emit_finished(aa, q->id, a->id,
			    s->state == HQ_BJ_FINISHED ? HQ_ALLOC_END_FINISHED
						       : HQ_ALLOC_END_FAILED);
			break;
		}
	}
	free(fail);
	hq_batch_status_free(st, n);
}

static void
aa_refresh(struct autoalloc *aa, struct hq_aqueue *q)
{
	struct aa_child *ch;
	struct hq_errbuf eb;
	struct hq_buf list;
	char **argv;
	uint32_t i, n = 0, k = 0;

	for (i = 0; i < q->nallocs; i++)
		n += hq_allocation_active(q->allocs[i]);
	q->next_refresh_us = hq_mono_us() + aa->refresh_ms * 1000;
	if (n == 0)
		return;
	ch = hq_xcalloc(1, sizeof *ch);
	ch->job = AA_STATUS;
	ch->queue_id = q->id;
	ch->manager = q->p.manager;
	ch->ids = hq_xcalloc(n, sizeof *ch->ids);
	for (i = 0; i < q->nallocs; i++)
		if (hq_allocation_active(q->allocs[i]))
			ch->ids[ch->nids++] = hq_xstrdup(q->allocs[i]->id);
	hq_buf_init(&list);
	argv = hq_xcalloc(n + 8, sizeof *argv);
	if (q->p.manager == HQ_MANAGER_SLURM) {
		hq_buf_append_str(&list, "--jobs=");
		for (i = 0; i < ch->nids; i++)
			hq_buf_printf(&list, "%s%s", i ? "," : "", ch->ids[i]);
		hq_buf_append(&list, "", 1);
		argv[k++] = (char *)"squeue";
		argv[k++] = (char *)"--noheader";
		argv[k++] = (char *)"--states=all";
		argv[k++] = (char *)list.data;
		argv[k++] = (char *)"--format=%i|%T";
	} else {
		argv[k++] = (char *)"qstat";
		argv[k++] = (char *)"-f";
		for (i = 0; i < ch->nids; i++)
			argv[k++] = ch->ids[i];
		argv[k++] = (char *)"-F";
		argv[k++] = (char *)"json";
		argv[k++] = (char *)"-x";
	}
	if (aa_spawn(aa, ch, argv, NULL, &eb) != 0)
		hq_warn("Allocation queue %u: status poll failed: %s", q->id,
		    eb.msg);
	else
		q->refreshing = true;
	free(argv);
	hq_buf_fini(&list);
}

/* ---- dry run and requests
 * ----------------------------------------------------------- */

static struct client *
aa_client(struct server *s, uint64_t id)
{
	struct client *cl;

	for (cl = s->clients; cl != NULL; cl = cl->next)
		if (cl->id == id)
			return cl;
	return NULL;
}

static void aa_reply(struct server *s, struct client *cl, const char *fmt, ...)
    HQ_PRINTF(3, 4);

static void
aa_reply(struct server *s, struct client *cl, const char *fmt, ...)
{
	struct hq_smsg r;
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	memset(&r, 0, sizeof r);
	r.kind = HQ_SMSG_COMMAND;
	hq_smsg_add_line(&r, HQ_LINE_INFO, "%s", line);
	server_send_smsg(s, cl->conn, &r);
	hq_smsg_fini(&r);
}

static uint32_t
aa_create_queue(struct autoalloc *aa, const struct hq_alloc_params *p)
{
	struct hq_aqueue *q;
	struct hq_event ev;

	aa_event(&ev, HQ_AEV_QUEUE_CREATED, aa->s->st->alloc->next_queue_id);
	ev.u.alloc.params = *p; /* borrowed */
	aa_emit(aa, &ev);
	if ((q = hq_alloc_queue(aa->s->st->alloc, ev.u.alloc.queue_id)) != NULL)
		q->next_refresh_us = hq_mono_us();
	hq_info("Allocation queue %u created (%s)", ev.u.alloc.queue_id,
	    hq_manager_name(p->manager));
	return ev.u.alloc.queue_id;
}

static void
aa_dry_run_done(struct autoalloc *aa, struct aa_child *ch)
{
	struct client *cl = aa_client(aa->s, ch->client_id);
	char *fail = aa_child_failure(ch), *id = NULL;
	struct hq_errbuf eb;

	if (fail == NULL &&
	    hq_batch_parse_submit(ch->manager, aa_stdout(ch), &id, &eb) != 0)
		fail = hq_xstrdup(eb.msg);
	if (fail != NULL) {
		aa_rmtree(ch->dir);
		if (cl != NULL)
			server_send_error(aa->s, cl->conn,
			    "Dry-run (test allocation submission) has "
			    "failed\n\nCaused by:\n    %s",
			    fail);
		free(fail);
		return;
	}
	aa_cancel(aa, ch->manager, &id, 1, ch->dir);
	free(id);
	if (cl == NULL || aa->stopping)
		return;
	if (ch->req == HQ_AREQ_ADD) {
		uint32_t qid = aa_create_queue(aa, &ch->params);

		aa_reply(aa->s, cl, "Allocation queue %u successfully created",
		    qid);
	} else {
		aa_reply(aa->s, cl,
		    "A trial allocation was submitted successfully. It was "
		    "immediately canceled to avoid wasting resources.");
	}
}

static int
aa_dry_run(struct autoalloc *aa, struct client *cl, const struct hq_cmsg *m,
    struct hq_errbuf *eb)
{
	const struct hq_alloc_params *p = &m->aparams;
	char *base = hq_xprintf("%s/autoalloc", aa->s->instance_dir), *dir;
	struct aa_child *ch;
	int rc;

	rc = aa_mkdirs(base, eb);
	dir = hq_xprintf("%s/dry-run-XXXXXX", base);
	free(base);
	if (rc == 0 && mkdtemp(dir) == NULL)
		rc = hq_errf(eb, -errno, "cannot create %s: %s", dir,
		    strerror(errno));
	if (rc != 0) {
		free(dir);
		return rc;
	}
	ch = hq_xcalloc(1, sizeof *ch);
	ch->job = AA_DRY_RUN;
	ch->manager = p->manager;
	ch->client_id = cl->id;
	ch->req = m->sub;
	ch->dir = hq_xstrdup(dir);
	hq_alloc_params_copy(&ch->params, p);
	rc = aa_start_submit(aa, ch, p, p->max_workers_per_alloc, "hq-dry-run",
	    dir, true, eb);
	if (rc != 0)
		aa_rmtree(dir);
	free(dir);
	return rc;
}

static int
aa_check_params(const struct hq_alloc_params *p, struct hq_errbuf *eb)
{
	if (p->time_limit_ms == 0)
		return hq_errf(eb, HQ_EINVAL,
		    "the time limit must be positive");
	if (p->backlog == 0)
		return hq_errf(eb, HQ_EINVAL, "the backlog must be at least 1");
	if (p->max_workers_per_alloc == 0)
		return hq_errf(eb, HQ_EINVAL,
		    "the maximum number of workers per allocation must be at "
		    "least 1");
	if (p->worker_time_limit_ms > p->time_limit_ms)
		return hq_errf(eb, HQ_EINVAL,
		    "the worker time limit must not exceed the time limit of "
		    "the allocation");
	return 0;
}

static void
aa_remove(struct autoalloc *aa, struct client *cl, struct hq_aqueue *q,
    bool force)
{
	struct hq_event ev;
	char **ids = NULL;
	uint32_t i, n = 0, cap = 0, id = q->id;
	enum hq_manager m = q->p.manager;

	if (!force && hq_aqueue_count(q, HQ_ALLOC_RUNNING) > 0) {
		server_send_error(aa->s, cl->conn,
		    "Allocation queue %u has running allocations, so it will "
		    "not be removed. Use `--force` if you want to remove the "
		    "queue anyway",
		    id);
		return;
	}
	for (i = 0; i < q->nallocs; i++)
		if (hq_allocation_active(q->allocs[i]))
			HQ_VEC_PUSH(ids, n, cap, hq_xstrdup(q->allocs[i]->id));
	aa_event(&ev, HQ_AEV_QUEUE_REMOVED, id);
	aa_emit(aa, &ev);
	/* q is gone now. */
	aa_cancel(aa, m, ids, n, NULL);
	for (i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	hq_info("Allocation queue %u removed (%u allocation%s cancelled)", id,
	    n, n == 1 ? "" : "s");
	aa_reply(aa->s, cl, "Allocation queue %u successfully removed", id);
}

void
autoalloc_request(struct server *s, struct client *cl, const struct hq_cmsg *m)
{
	struct autoalloc *aa = s->aa;
	struct hq_aqueue *q = NULL;
	struct hq_errbuf eb;
	struct hq_event ev;

	if (m->sub == HQ_AREQ_ADD || m->sub == HQ_AREQ_DRY_RUN) {
		if (aa_check_params(&m->aparams, &eb) != 0) {
			server_send_error(s, cl->conn, "%s", eb.msg);
			return;
		}
		if (m->sub == HQ_AREQ_ADD && m->no_dry_run) {
			aa_reply(s, cl,
			    "Allocation queue %u successfully created",
			    aa_create_queue(aa, &m->aparams));
			return;
		}
		if (aa_dry_run(aa, cl, m, &eb) != 0)
			server_send_error(s, cl->conn,
			    "Dry-run (test allocation submission) has "
			    "failed\n\nCaused by:\n    %s",
			    eb.msg);
		return;
	}
	q = hq_alloc_queue(s->st->alloc, m->queue_id);
	if (q == NULL) {
		server_send_error(s, cl->conn, "Allocation queue %u not found",
		    m->queue_id);
		return;
	}
	switch (m->sub) {
	case HQ_AREQ_PAUSE:
	case HQ_AREQ_RESUME:
		if (q->paused != (m->sub == HQ_AREQ_PAUSE)) {
			aa_event(&ev,
			    m->sub == HQ_AREQ_PAUSE ? HQ_AEV_QUEUE_PAUSED
						    : HQ_AEV_QUEUE_RESUMED,
			    q->id);
			aa_emit(aa, &ev);
		}
		aa_reply(s, cl, "Allocation queue %u successfully %s",
		    m->queue_id,
		    m->sub == HQ_AREQ_PAUSE ? "paused" : "resumed");
		break;
	case HQ_AREQ_REMOVE:
		aa_remove(aa, cl, q, m->force);
		break;
	default:
		server_send_error(s, cl->conn, "unknown alloc request %d",
		    m->sub);
	}
}

/* ---- queries
 * -------------------------------------------------------------------------- */

static json_t *
aa_strv(char *const *v, uint32_t n)
{
	json_t *a = json_array();
	uint32_t i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static json_t *
aa_time(uint64_t ms)
{
	struct hq_buf b;
	json_t *j;

	if (ms == 0)
		return json_null();
	hq_buf_init(&b);
	hq_fmt_rfc3339(&b, ms);
	j = json_stringn((const char *)b.data, b.len);
	hq_buf_fini(&b);
	return j;
}

json_t *
autoalloc_query_list(struct server *s)
{
	const struct hq_alloc_state *as = s->st->alloc;
	json_t *arr = json_array();
	struct hq_buf b;
	uint32_t i;

	hq_buf_init(&b);
	for (i = 0; i < as->nqueues; i++) {
		const struct hq_aqueue *q = as->queues[i];
		const struct hq_alloc_params *p = &q->p;
		json_t *o = json_object();

		json_object_set_new(o, "id", json_integer(q->id));
		json_object_set_new(o, "name",
		    p->name ? json_string(p->name) : json_null());
		json_object_set_new(o, "state",
		    json_string(q->paused ? "Paused" : "Active"));
		json_object_set_new(o, "manager",
		    json_string(hq_manager_name(p->manager)));
		json_object_set_new(o, "additional_args",
		    aa_strv(p->additional_args, p->nadditional_args));
		json_object_set_new(o, "backlog", json_integer(p->backlog));
		json_object_set_new(o, "max_workers_per_alloc",
		    json_integer(p->max_workers_per_alloc));
		json_object_set_new(o, "timelimit",
		    json_real(hq_ms_to_secs(p->time_limit_ms)));
		json_object_set_new(o, "max_worker_count",
		    p->max_worker_count ? json_integer(p->max_worker_count)
					: json_null());
		json_object_set_new(o, "worker_args",
		    aa_strv(p->worker_args, p->nworker_args));
		json_object_set_new(o, "known_worker_resources",
		    q->has_known_res ? hq_worker_res_json(&q->known_res)
				     : json_null());
		hq_buf_reset(&b);
		if (q->has_known_res)
			hq_fmt_worker_res_summary(&b, &q->known_res);
		else if (q->has_cli_res)
			hq_fmt_worker_res_summary(&b, &q->cli_res);
		else
			hq_buf_append_str(&b, "<unknown>");
		json_object_set_new(o, "_resources",
		    json_stringn((const char *)b.data, b.len));
		json_object_set_new(o, "_pause_reason",
		    q->pause_reason ? json_string(q->pause_reason)
				    : json_null());
		json_array_append_new(arr, o);
	}
	hq_buf_fini(&b);
	return arr;
}

static bool
aa_state_wanted(const struct hq_cmsg *m, enum hq_alloc_status st)
{
	uint32_t i;

	if (m->nstates == 0)
		return true;
	for (i = 0; i < m->nstates; i++)
		if (strcmp(m->states[i], hq_alloc_status_name(st)) == 0)
			return true;
	return false;
}

static void
aa_info_queue(const struct hq_aqueue *q, const struct hq_cmsg *m, json_t *arr,
    bool with_queue)
{
	uint32_t i;

	for (i = 0; i < q->nallocs; i++) {
		const struct hq_allocation *a = q->allocs[i];
		json_t *o;

		if (!aa_state_wanted(m, a->status))
			continue;
		o = json_object();
		json_object_set_new(o, "id", json_string(a->id));
		json_object_set_new(o, "target_worker_count",
		    json_integer(a->target));
		json_object_set_new(o, "queued_at", aa_time(a->queued_ms));
		json_object_set_new(o, "started_at", aa_time(a->started_ms));
		json_object_set_new(o, "ended_at", aa_time(a->ended_ms));
		json_object_set_new(o, "status",
		    json_string(hq_alloc_status_name(a->status)));
		json_object_set_new(o, "workdir", json_string(a->workdir));
		json_object_set_new(o, "_queued_ms",
		    json_integer((json_int_t)a->queued_ms));
		json_object_set_new(o, "_started_ms",
		    json_integer((json_int_t)a->started_ms));
		json_object_set_new(o, "_ended_ms",
		    json_integer((json_int_t)a->ended_ms));
		if (with_queue)
			json_object_set_new(o, "_queue_id",
			    json_integer(q->id));
		json_array_append_new(arr, o);
	}
}

json_t *
autoalloc_query_info(struct server *s, const struct hq_cmsg *m, char **err)
{
	const struct hq_alloc_state *as = s->st->alloc;
	const struct hq_aqueue *q;
	json_t *arr;
	uint32_t i, id;

	if (m->sel.kind == HQ_SEL_ALL) {
		arr = json_array();
		for (i = 0; i < as->nqueues; i++)
			aa_info_queue(as->queues[i], m, arr, true);
		return arr;
	}
	if (m->sel.kind != HQ_SEL_IDS || m->sel.ids.n != 1 ||
	    m->sel.ids.r[0].count != 1) {
		*err = hq_xstrdup("alloc info needs one queue id");
		return NULL;
	}
	id = m->sel.ids.r[0].start;
	if ((q = hq_alloc_queue(as, id)) == NULL) {
		*err = hq_xprintf("Allocation queue %u not found", id);
		return NULL;
	}
	arr = json_array();
	aa_info_queue(q, m, arr, false);
	return arr;
}

/* ---- the loop
 * ------------------------------------------------------------------------- */

static void
aa_child_done(struct aa_child *ch)
{
	struct autoalloc *aa = ch->aa;

	switch (ch->job) {
	case AA_SUBMIT:
		aa_submit_done(aa, ch);
		break;
	case AA_STATUS:
		aa_status_done(aa, ch);
		break;
	case AA_CANCEL:
		aa_cancel_done(aa, ch);
		break;
	case AA_DRY_RUN:
		aa_dry_run_done(aa, ch);
		break;
	}
}

static void
aa_plan(struct autoalloc *aa)
{
	struct server *s = aa->s;
	uint32_t i;

	aa->dirty = false;
	aa->last_plan_us = hq_mono_us();
	if (aa->stopping || s->stopping)
		return;
	hq_alloc_plan(s->st, hq_now_ms(), &aa->tuning, &aa->acts);
	for (i = 0; i < aa->acts.n; i++) {
		const struct hq_alloc_action *a = &aa->acts.a[i];
		struct hq_aqueue *q = hq_alloc_queue(s->st->alloc, a->queue_id);
		struct hq_event ev;

		if (q == NULL)
			continue;
		if (a->kind == HQ_AA_SUBMIT) {
			aa_submit(aa, q, a->workers);
		} else {
			hq_warn("Allocation queue %u paused: %s", q->id,
			    a->reason);
			aa_event(&ev, HQ_AEV_QUEUE_PAUSED, q->id);
			ev.u.alloc.message = (char *)a->reason;
			aa_emit(aa, &ev);
		}
	}
}

/* Remove allocation directories beyond the newest AA_KEEP_DIRS inactive
 * ones of each queue; only directories under our server dir. */
static void
aa_cleanup_dirs(struct autoalloc *aa)
{
	const struct hq_alloc_state *as = aa->s->st->alloc;
	size_t plen = strlen(aa->s->server_dir);
	uint32_t i, k, kept;

	for (i = 0; i < as->nqueues; i++) {
		struct hq_aqueue *q = as->queues[i];

		kept = 0;
		for (k = q->nallocs; k > 0; k--) {
			struct hq_allocation *a = q->allocs[k - 1];

			if (hq_allocation_active(a) || a->dir_removed)
				continue;
			if (++kept <= AA_KEEP_DIRS)
				continue;
			a->dir_removed = true;
			if (strncmp(a->workdir, aa->s->server_dir, plen) == 0 &&
			    a->workdir[plen] == '/' &&
			    strstr(a->workdir, "/autoalloc/") != NULL)
				aa_rmtree(a->workdir);
		}
	}
}

static void
aa_tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct autoalloc *aa = w->data;
	const struct hq_alloc_state *as = aa->s->st->alloc;
	uint64_t now = hq_mono_us();
	uint32_t i;

	(void)loop;
	(void)revents;
	if (aa->stopping)
		return;
	for (i = 0; i < as->nqueues; i++) {
		struct hq_aqueue *q = as->queues[i];

		if (!q->refreshing && now >= q->next_refresh_us)
			aa_refresh(aa, q);
	}
	if (aa->dirty || now - aa->last_plan_us >= aa->max_delay_ms * 1000)
		aa_plan(aa);
	aa_cleanup_dirs(aa);
}

static void
aa_kick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	aa_plan(w->data);
}

/* Decide soon (coalesced: at most one pending decision). */
static void
aa_kick(struct autoalloc *aa)
{
	aa->dirty = true;
	if (!ev_is_active(&aa->kick_w) && !aa->stopping) {
		ev_timer_set(&aa->kick_w, 0.05, 0.);
		ev_timer_start(aa->s->loop, &aa->kick_w);
	}
}

void
autoalloc_prepare(struct server *s)
{
	struct autoalloc *aa = s->aa;

	if (aa == NULL || s->st->nevents == aa->seen_nevents)
		return;
	aa->seen_nevents = s->st->nevents;
	/* Nothing to decide without queues. */
	if (s->st->alloc->nqueues > 0)
		aa_kick(aa);
}

void
autoalloc_create(struct server *s)
{
	struct autoalloc *aa = hq_xcalloc(1, sizeof *aa);
	char buf[PATH_MAX];
	ssize_t n;

	aa->s = s;
	aa_tuning(aa);
	n = readlink("/proc/self/exe", buf, sizeof buf - 1);
	if (n > 0) {
		buf[n] = '\0';
		aa->hq_exe = hq_xstrdup(buf);
	} else {
		aa->hq_exe = hq_xstrdup("hq");
	}
	aa->seen_nevents = s->st->nevents;
	aa->last_plan_us = hq_mono_us();
	/* The first tick right away: allocations restored from the journal
	 * are polled at once (every queue's next_refresh_us is 0). */
	ev_timer_init(&aa->tick_w, aa_tick_cb, 0.01,
	    (double)aa->tick_ms / 1000.0);
	aa->tick_w.data = aa;
	ev_timer_start(s->loop, &aa->tick_w);
	ev_timer_init(&aa->kick_w, aa_kick_cb, 0.05, 0.);
	aa->kick_w.data = aa;
	aa->dirty = s->st->alloc->nqueues > 0;
	s->aa = aa;
}

void
autoalloc_stop(struct server *s)
{
	struct autoalloc *aa = s->aa;
	const struct hq_alloc_state *as;
	uint32_t i, k, total = 0;

	if (aa == NULL || aa->stopping)
		return;
	aa->stopping = true;
	ev_timer_stop(s->loop, &aa->tick_w);
	ev_timer_stop(s->loop, &aa->kick_w);
	as = s->st->alloc;
	for (i = 0; i < as->nqueues; i++) {
		struct hq_aqueue *q = as->queues[i];
		char **ids = NULL;
		uint32_t n = 0, cap = 0;

		for (k = 0; k < q->nallocs; k++)
			if (hq_allocation_active(q->allocs[k]))
				HQ_VEC_PUSH(ids, n, cap,
				    hq_xstrdup(q->allocs[k]->id));
		for (k = 0; k < n; k++)
			aa_emit_finished(aa, q->id, ids[k],
			    HQ_ALLOC_END_CANCELED);
		aa_cancel(aa, q->p.manager, ids, n, NULL);
		total += n;
		for (k = 0; k < n; k++)
			free(ids[k]);
		free(ids);
	}
	if (total > 0)
		hq_info("Cancelling %u allocation%s", total,
		    total == 1 ? "" : "s");
}

/* ---- exit
 * ---------------------------------------------------------------------------
 */

/* Read what is left and reap, blocking until 'deadline_us' at most. */
static void
aa_child_finish_blocking(struct aa_child *ch, uint64_t deadline_us)
{
	struct pollfd pfd[2];
	char tmp[4096];
	int status;

	while (ch->out_fd >= 0 || ch->err_fd >= 0) {
		uint64_t now = hq_mono_us();
		int n = 0, i;

		if (now >= deadline_us)
			break;
		if (ch->out_fd >= 0)
			pfd[n++] = (struct pollfd){ ch->out_fd, POLLIN, 0 };
		if (ch->err_fd >= 0)
			pfd[n++] = (struct pollfd){ ch->err_fd, POLLIN, 0 };
		if (poll(pfd, (nfds_t)n,
			(int)((deadline_us - now) / 1000) + 1) <= 0)
			continue;
		for (i = 0; i < n; i++) {
			ssize_t r;

			if (pfd[i].revents == 0)
				continue;
			r = read(pfd[i].fd, tmp, sizeof tmp);
			if (r > 0) {
				hq_buf_append(pfd[i].fd == ch->out_fd
					? &ch->out
					: &ch->err,
				    tmp, (size_t)r);
			} else if (r == 0 || errno != EAGAIN) {
				close(pfd[i].fd);
				if (pfd[i].fd == ch->out_fd)
					ch->out_fd = -1;
				else
					ch->err_fd = -1;
			}
		}
	}
	while (!ch->exited) {
		pid_t r = waitpid(ch->pid, &status, WNOHANG);

		if (r == ch->pid) {
			ch->exited = true;
			ch->status = status;
		} else if (r < 0 || hq_mono_us() >= deadline_us) {
			/* Reaped by libev already, or too slow. */
			if (r == 0)
				kill(-ch->pid, SIGKILL);
			ch->exited = true;
			ch->status = r < 0 ? 0 : W_EXITCODE(1, 0);
		} else {
			usleep(10000);
		}
	}
}

/* Run a cancel command synchronously (the loop is gone). */
static void
aa_cancel_sync(enum hq_manager m, const char *id, uint64_t deadline_us)
{
	char *argv[] = { (char *)(m == HQ_MANAGER_SLURM ? "scancel" : "qdel"),
		(char *)id, NULL };
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int status, rc;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0)
		return;
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (hq_mono_us() >= deadline_us) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			break;
		}
		usleep(10000);
	}
}

void
autoalloc_destroy(struct server *s)
{
	struct autoalloc *aa = s->aa;
	uint64_t deadline = hq_mono_us() + AA_EXIT_WAIT_MS * 1000ull;
	struct aa_child *ch, *next;

	if (aa == NULL)
		return;
	ev_timer_stop(s->loop, &aa->tick_w);
	ev_timer_stop(s->loop, &aa->kick_w);
	for (ch = aa->children; ch != NULL; ch = next) {
		char *id = NULL, *fail;

		next = ch->next;
		ev_child_stop(s->loop, &ch->child_w);
		ev_io_stop(s->loop, &ch->out_w);
		ev_io_stop(s->loop, &ch->err_w);
		ev_timer_stop(s->loop, &ch->timeout_w);
		aa_child_finish_blocking(ch, deadline);
		/* An allocation submitted while we stopped: nobody will
		 * ever use it. */
		fail = aa_child_failure(ch);
		if ((ch->job == AA_SUBMIT || ch->job == AA_DRY_RUN) &&
		    fail == NULL &&
		    hq_batch_parse_submit(ch->manager, aa_stdout(ch), &id,
			NULL) == 0) {
			hq_info("Cancelling allocation %s submitted during "
				"the stop",
			    id);
			aa_cancel_sync(ch->manager, id, deadline + 2000000);
		}
		free(id);
		free(fail);
		if (ch->job == AA_DRY_RUN && ch->dir != NULL)
			aa_rmtree(ch->dir);
		if (ch->out_fd >= 0)
			close(ch->out_fd);
		if (ch->err_fd >= 0)
			close(ch->err_fd);
		aa_child_free(ch);
	}
	hq_alloc_actions_fini(&aa->acts);
	free(aa->delays);
	free(aa->hq_exe);
	free(aa);
	s->aa = NULL;
}
