/* SPDX-License-Identifier: MIT */
/*
 * Running tasks: resources, paths, environment, vfork/exec, time limits,
 * cancel (SIGINT to the group, SIGKILL after 1 s) and the result report.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fmt.h"
#include "common/log.h"
#include "common/parse.h"
#include "common/resource.h"
#include "common/taskpath.h"
#include "worker/worker.h"

void
worker_task_free(struct wtask *t)
{
	uint32_t i;

	if (t == NULL)
		return;
	hq_ralloc_result_fini(&t->alloc);
	for (i = 0; i < t->mn_nhosts; i++)
		free(t->mn_hosts[i]);
	free(t->mn_hosts);
	free(t->entry);
	free(t->task_dir);
	free(t->out_path);
	free(t->err_path);
	if (t->stdin_fd >= 0)
		close(t->stdin_fd);
	worker_stream_drop(t);
	free(t);
}

/* /dev/null for reading or writing, opened once per worker. */
static int
worker_devnull(struct worker *w, bool write)
{
	int *fd = write ? &w->devnull_w : &w->devnull_r;

	if (*fd < 0)
		*fd = open("/dev/null",
		    (write ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
	return *fd;
}

static int
mkdir_p(const char *path)
{
	char *p, *s;
	int rc = 0;

	/* Usually the directory exists already (every task of an array
	 * shares it): one syscall says so. */
	if (mkdir(path, 0755) == 0 || errno == EEXIST)
		return 0;
	if (errno != ENOENT)
		return -errno;
	p = hq_xstrdup(path);
	for (s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			rc = -errno;
		*s = '/';
		if (rc)
			break;
	}
	if (rc == 0 && mkdir(p, 0755) < 0 && errno != EEXIST)
		rc = -errno;
	free(p);
	return rc;
}

int
worker_mkdir_p(const char *path)
{
	return mkdir_p(path);
}

static void
mkdir_parent(const char *path)
{
	char *p = hq_xstrdup(path), *slash = strrchr(p, '/');

	if (slash != NULL && slash != p) {
		*slash = '\0';
		mkdir_p(p);
	}
	free(p);
}

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/* Remove a task directory and everything the task left in it. */
static void
rm_rf(const char *path)
{
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- environment --------------------------------------------------------- */

struct envb {
	char **v;
	uint32_t n, cap;
};

static int
env_find(const struct envb *e, const char *key, size_t klen)
{
	uint32_t i;

	for (i = 0; i < e->n; i++)
		if (strncmp(e->v[i], key, klen) == 0 && e->v[i][klen] == '=')
			return (int)i;
	return -1;
}

static void
env_set(struct envb *e, const char *key, const char *value, bool overwrite)
{
	size_t klen = strlen(key);
	int i = env_find(e, key, klen);
	char *kv = hq_xprintf("%s=%s", key, value);

	if (i >= 0) {
		if (!overwrite) {
			free(kv);
			return;
		}
		free(e->v[i]);
		e->v[i] = kv;
		return;
	}
	HQ_VEC_PUSH(e->v, e->n, e->cap, kv);
}

static bool
env_has(const struct envb *e, const char *key)
{
	return env_find(e, key, strlen(key)) >= 0;
}

static void
env_free(struct envb *e)
{
	uint32_t i;

	for (i = 0; i < e->n; i++)
		free(e->v[i]);
	free(e->v);
}

static void
build_env(struct worker *w, struct wtask *t, const struct hq_task_paths *p,
    struct envb *e, char **cpus_labels)
{
	const struct hq_task_desc *d = &t->spec->d;
	const struct hq_res_variant *v = &d->req.v[t->variant];
	char num[32];
	uint32_t i;
	char **ep;

	for (ep = w->base_env; ep && *ep; ep++)
		HQ_VEC_PUSH(e->v, e->n, e->cap, hq_xstrdup(*ep));
	for (i = 0; i < d->nenv; i++)
		env_set(e, d->env[i].key, d->env[i].value, true);
	snprintf(num, sizeof num, "%u", t->job);
	env_set(e, "HQ_JOB_ID", num, true);
	snprintf(num, sizeof num, "%u", t->task);
	env_set(e, "HQ_TASK_ID", num, true);
	snprintf(num, sizeof num, "%u", t->instance);
	env_set(e, "HQ_INSTANCE_ID", num, true);
	env_set(e, "HQ_SUBMIT_DIR",
	    t->spec->submit_dir ? t->spec->submit_dir : "", true);
	env_set(e, "HQ", w->self_exe, true);
	if (t->entry != NULL)
		env_set(e, "HQ_ENTRY", t->entry, true);
	if (d->req.n > 1) {
		snprintf(num, sizeof num, "%u", t->variant);
		env_set(e, "HQ_RESOURCE_VARIANT", num, true);
	}
	(void)p;
	for (i = 0; i < t->alloc.n && i < v->n; i++) {
		const struct hq_ralloc_part *part = &t->alloc.parts[i];
		const struct hq_res_entry *re = &v->e[i];
		const struct hq_res_pool *pool = &w->cfg.res.pools[part->pool];
		char *ename = hq_res_env_name(re->name), *key;
		struct hq_buf b;

		hq_buf_init(&b);
		hq_fmt_request_entry(&b, re);
		hq_buf_append(&b, "", 1);
		key = hq_xprintf("HQ_RESOURCE_REQUEST_%s", ename);
		env_set(e, key, (char *)b.data, true);
		free(key);
		hq_buf_reset(&b);
		if (pool->kind != HQ_POOL_SUM) {
			hq_ralloc_fmt_labels(&b, w->ralloc, part);
			hq_buf_append(&b, "", 1);
			key = hq_xprintf("HQ_RESOURCE_VALUES_%s", ename);
			env_set(e, key, (char *)b.data, true);
			free(key);
			if (strcmp(re->name, "cpus") == 0) {
				env_set(e, "HQ_CPUS", (char *)b.data, true);
				*cpus_labels = hq_xstrdup((char *)b.data);
			} else if (strcmp(re->name, "gpus/nvidia") == 0) {
				env_set(e, "CUDA_VISIBLE_DEVICES",
				    (char *)b.data, true);
				env_set(e, "CUDA_DEVICE_ORDER", "PCI_BUS_ID",
				    true);
			} else if (strcmp(re->name, "gpus/amd") == 0) {
				env_set(e, "ROCR_VISIBLE_DEVICES",
				    (char *)b.data, true);
			}
		}
		if (strcmp(re->name, "cpus") == 0) {
			uint64_t amount = re->policy == HQ_POLICY_ALL
			    ? hq_res_pool_total(pool)
			    : re->amount;

			if (amount % HQ_AMOUNT_ONE == 0 &&
			    !env_has(e, "OMP_NUM_THREADS")) {
				snprintf(num, sizeof num, "%llu",
				    (unsigned long long)(amount /
					HQ_AMOUNT_ONE));
				env_set(e, "OMP_NUM_THREADS", num, false);
			}
		}
		hq_buf_fini(&b);
		free(ename);
	}
	if (t->task_dir != NULL) {
		char *ef = hq_xprintf("%s/hq-error", t->task_dir);

		env_set(e, "HQ_TASK_DIR", t->task_dir, true);
		env_set(e, "HQ_ERROR_FILENAME", ef, true);
		free(ef);
	}
	{
		char *key = worker_notify_key(w, t);

		if (key != NULL) {
			env_set(e, "HQ_ACCESS_KEY", key, true);
			free(key);
		}
	}
	if (t->mn_nhosts > 0 && t->task_dir != NULL) {
		char *nf = hq_xprintf("%s/hq-nodefile", t->task_dir);
		char *hf = hq_xprintf("%s/hq-hostfile", t->task_dir);

		env_set(e, "HQ_NODE_FILE", nf, true);
		env_set(e, "HQ_HOST_FILE", hf, true);
		snprintf(num, sizeof num, "%u", t->mn_nhosts);
		env_set(e, "HQ_NUM_NODES", num, true);
		free(nf);
		free(hf);
	}
	if (d->pin == HQ_PIN_TASKSET)
		env_set(e, "HQ_PIN", "taskset", true);
	else if (d->pin == HQ_PIN_OMP && *cpus_labels != NULL) {
		char *places = hq_xprintf("{%s}", *cpus_labels);

		env_set(e, "HQ_PIN", "omp", true);
		env_set(e, "OMP_PROC_BIND", "close", false);
		env_set(e, "OMP_PLACES", places, false);
		free(places);
	}
	HQ_VEC_PUSH(e->v, e->n, e->cap, NULL);
	e->n--;
}

/* ---- results ------------------------------------------------------------- */

static void
unlink_running(struct worker *w, struct wtask *t)
{
	if (t->prev)
		t->prev->next = t->next;
	else
		w->running = t->next;
	if (t->next)
		t->next->prev = t->prev;
	t->next = t->prev = NULL;
	w->nrunning--;
}

static char *
read_error_file(const char *task_dir)
{
	char *path = hq_xprintf("%s/hq-error", task_dir);
	char buf[2049];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *msg = NULL;

	free(path);
	if (fd < 0)
		return NULL;
	n = read(fd, buf, sizeof buf);
	close(fd);
	if (n < 0)
		return NULL;
	if (n == 0)
		return hq_xstrdup(
		    "Task created an error file, but it is empty");
	if (n > 2048)
		return hq_xprintf("%.*s\n[The message was truncated]", 2048,
		    buf);
	msg = hq_xstrndup(buf, (size_t)n);
	return msg;
}

static void
task_finished(struct worker *w, struct wtask *t, int status)
{
	char *msg = NULL, *stream_err = NULL;

	ev_timer_stop(w->loop, &t->limit_w);
	ev_timer_stop(w->loop, &t->kill_w);
	if (t->stdin_fd >= 0) {
		ev_io_stop(w->loop, &t->stdin_w);
		close(t->stdin_fd);
		t->stdin_fd = -1;
	}
	unlink_running(w, t);
	hq_ralloc_release(w->ralloc, &t->alloc);
	/* Streamed output is complete before the result is reported. */
	if (t->canceled || t->timed_out)
		worker_stream_drop(t);
	else
		stream_err = worker_stream_finish(t);
	if (t->canceled) {
		/* The server already knows. */
	} else if (t->timed_out) {
		worker_report_failed(w, t, "Time limit reached");
	} else if (stream_err != NULL) {
		worker_report_failed(w, t, stream_err);
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		if (t->rm_out && t->out_path)
			unlink(t->out_path);
		if (t->rm_err && t->err_path)
			unlink(t->err_path);
		worker_report_finished(w, t);
	} else {
		if (t->task_dir != NULL)
			msg = read_error_file(t->task_dir);
		if (msg == NULL) {
			if (WIFSIGNALED(status))
				msg = hq_xprintf("Program terminated with exit "
						 "code -1. Received signal %d "
						 "(SIG%s).",
				    WTERMSIG(status),
				    sigabbrev_np(WTERMSIG(status))
					? sigabbrev_np(WTERMSIG(status))
					: "UNKNOWN");
			else
				msg = hq_xprintf("Program terminated with exit "
						 "code %d.",
				    WEXITSTATUS(status));
		}
		worker_report_failed(w, t, msg);
		free(msg);
	}
	free(stream_err);
	if (t->task_dir != NULL)
		rm_rf(t->task_dir);
	worker_task_free(t);
	if (!w->lost_server && !w->stopping)
		worker_start_queued(w);
	worker_check_idle(w);
}

static void
task_child_cb(struct ev_loop *loop, ev_child *cw, int revents)
{
	struct wtask *t = cw->data;

	(void)revents;
	ev_child_stop(loop, cw);
	task_finished(t->w, t, cw->rstatus);
}

static void
task_kill_cb(struct ev_loop *loop, ev_timer *tw, int revents)
{
	struct wtask *t = tw->data;

	(void)loop;
	(void)revents;
	if (t->pid > 0)
		kill(-t->pid, SIGKILL);
}

void
worker_task_kill(struct wtask *t)
{
	/* Cancel and time limit drop the output not yet streamed. */
	if (t->canceled || t->timed_out)
		worker_stream_drop(t);
	if (!t->running || t->killing || t->pid <= 0)
		return;
	t->killing = true;
	kill(-t->pid, SIGINT);
	ev_timer_init(&t->kill_w, task_kill_cb, 1.0, 0.);
	t->kill_w.data = t;
	ev_timer_start(t->w->loop, &t->kill_w);
}

static void
task_limit_cb(struct ev_loop *loop, ev_timer *tw, int revents)
{
	struct wtask *t = tw->data;

	(void)loop;
	(void)revents;
	t->timed_out = true;
	worker_task_kill(t);
}

static void
stdin_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct wtask *t = io->data;
	const struct hq_task_desc *d = &t->spec->d;
	ssize_t n;

	(void)revents;
	n = write(t->stdin_fd, d->stdin_data + t->stdin_off,
	    d->stdin_len - t->stdin_off);
	if (n > 0)
		t->stdin_off += (uint32_t)n;
	if ((n < 0 && errno != EAGAIN && errno != EINTR) ||
	    t->stdin_off >= d->stdin_len) {
		ev_io_stop(loop, io);
		close(t->stdin_fd);
		t->stdin_fd = -1;
	}
}

/* ---- start
 * ------------------------------------------------------------------- */

static char *
spawn_error(const struct hq_task_desc *d, const char *cwd, int err)
{
	struct hq_buf b;
	uint32_t i;
	char *msg;

	hq_buf_init(&b);
	hq_buf_append_str(&b, "Cannot execute \"");
	for (i = 0; i < d->argc; i++) {
		if (i > 0)
			hq_buf_append_str(&b, " ");
		hq_buf_append_str(&b, d->argv[i]);
	}
	hq_buf_printf(&b, "\": %s", strerror(err));
	if (err == ENOENT) {
		hq_buf_printf(&b, "\nThe program \"%s\" was not found.",
		    d->argv[0]);
		/* A file of that name in the task's directory: the user
		 * probably forgot "./" (PATH is searched, not the cwd). */
		char *local = hq_path_join(cwd, d->argv[0]);

		if (strchr(d->argv[0], '/') == NULL && access(local, F_OK) == 0)
			hq_buf_printf(&b, " Maybe you have meant `./%s`?",
			    d->argv[0]);
		free(local);
	} else if (err == EACCES) {
		size_t n = strlen(d->argv[0]);

		if (n > 3 && strcmp(d->argv[0] + n - 3, ".sh") == 0)
			hq_buf_printf(&b,
			    "\nThe script \"%s\" is not executable.",
			    d->argv[0]);
	}
	hq_buf_append(&b, "", 1);
	msg = hq_xstrdup((char *)b.data);
	hq_buf_fini(&b);
	return msg;
}

static int
open_output(const char *path)
{
	mkdir_parent(path);
	return open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
}

/*
 * vfork + exec rather than posix_spawn, which cannot set PR_SET_PDEATHSIG:
 * a task must not outlive its worker (spec 2.4). The child runs in a new
 * session with default signal dispositions and an empty mask, 'fds' as its
 * stdin/stdout/stderr and nothing else open, pinned to 'pin' if given.
 * Returns 0 and *pid, or the errno of the failed step (the child has then
 * been reaped; *pin_failed tells a pinning failure from the others).
 */
static int
task_exec(char *const *argv, char *const *envp, const char *cwd,
    const int fds[3], const cpu_set_t *pin, size_t pin_size, bool *pin_failed,
    pid_t *pid)
{
	volatile int err = 0;
	volatile bool pin_err = false;
	sigset_t all, old;
	pid_t parent = getpid(), child;
	int i;

	/* No handler of ours may run in the child, which shares our memory. */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	child = vfork();
	if (child == 0) {
		struct sigaction sa;
		sigset_t none;

		for (i = 1; i < NSIG; i++) {
			if (sigaction(i, NULL, &sa) == 0 &&
			    sa.sa_handler != SIG_DFL) {
				sa.sa_handler = SIG_DFL;
				sa.sa_flags = 0;
				sigaction(i, &sa, NULL);
			}
		}
		if (setsid() < 0 || prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 ||
		    chdir(cwd) != 0) {
			err = errno;
			_exit(127);
		}
		if (getppid() != parent) /* died before the prctl */
			_exit(127);
		/* --pin taskset: the child pins itself, no taskset process. */
		if (pin != NULL && sched_setaffinity(0, pin_size, pin) != 0) {
			err = errno;
			pin_err = true;
			_exit(127);
		}
		for (i = 0; i < 3; i++) {
			if (fds[i] == i ? fcntl(i, F_SETFD, 0) != 0
					: dup2(fds[i], i) < 0) {
				err = errno;
				_exit(127);
			}
		}
		closefrom(3);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execvpe(argv[0], argv, envp);
		err = errno;
		_exit(127);
	}
	if (child < 0) {
		err = errno;
	} else if (err != 0) {
		while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
			;
	} else {
		*pid = child;
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	*pin_failed = pin_err;
	return err;
}

/* ---- pinning: --pin taskset sets the task's affinity in the child ---- */

/* The affinity mask of CPU ids "0,1,5" (the cpus labels are CPU ids). */
static int
pin_mask(const char *labels, cpu_set_t **maskp, size_t *sizep, char **err)
{
	const char *p = labels;
	unsigned long max = 0, id;
	cpu_set_t *mask;
	size_t size;
	char *end;

	for (p = labels; *p != '\0'; p = *end ? end + 1 : end) {
		id = strtoul(p, &end, 10);
		if (end == p || (*end != ',' && *end != '\0') ||
		    id > 1u << 20) {
			*err = hq_xprintf("Pinning failed, invalid CPU id in "
					  "\"%s\"",
			    labels);
			return HQ_EINVAL;
		}
		if (id > max)
			max = id;
	}
	mask = CPU_ALLOC(max + 1);
	size = CPU_ALLOC_SIZE(max + 1);
	CPU_ZERO_S(size, mask);
	for (p = labels; *p != '\0'; p = *end ? end + 1 : end) {
		id = strtoul(p, &end, 10);
		CPU_SET_S(id, size, mask);
	}
	*maskp = mask;
	*sizep = size;
	return 0;
}

/* ---- multi-node tasks ---------------------------------------------------- */

/* The short name of a host: cut at the first '.', unless an IPv4 address. */
static char *
short_hostname(const char *host)
{
	struct in_addr a;
	const char *dot = strchr(host, '.');

	if (dot == NULL || inet_pton(AF_INET, host, &a) == 1)
		return hq_xstrdup(host);
	return hq_xstrndup(host, (size_t)(dot - host));
}

static int
write_lines(const char *path, char **lines, uint32_t n, bool short_names)
{
	FILE *f = fopen(path, "we");
	uint32_t i;
	int rc = 0;

	if (f == NULL)
		return -errno;
	for (i = 0; i < n; i++) {
		char *name = short_names ? short_hostname(lines[i])
					 : hq_xstrdup(lines[i]);

		if (fprintf(f, "%s\n", name) < 0)
			rc = -EIO;
		free(name);
	}
	if (fclose(f) != 0 && rc == 0)
		rc = -errno;
	return rc;
}

/* hq-nodefile (short names) and hq-hostfile (full names) in the task
 * dir, the root on the first line of both (spec 2.8). */
static int
write_node_files(struct wtask *t)
{
	char *nf = hq_xprintf("%s/hq-nodefile", t->task_dir);
	char *hf = hq_xprintf("%s/hq-hostfile", t->task_dir);
	int rc;

	rc = write_lines(nf, t->mn_hosts, t->mn_nhosts, true);
	if (rc == 0)
		rc = write_lines(hf, t->mn_hosts, t->mn_nhosts, false);
	free(nf);
	free(hf);
	return rc;
}

/* Start one task whose resources are allocated. false: it failed. */
static void
task_spawn(struct worker *w, struct wtask *t)
{
	const struct hq_task_desc *d = &t->spec->d;
	struct hq_task_paths p;
	struct envb env = { NULL, 0, 0 };
	char *cpus_labels = NULL, **argv = NULL, *err = NULL;
	cpu_set_t *pin = NULL;
	size_t pin_size = 0;
	int fds[3] = { -1, -1, -1 }, pipefd[2] = { -1, -1 }, rc;
	uint32_t i, argc = 0;

	hq_task_paths_resolve(&p, d, t->job, t->task, t->instance,
	    t->spec->submit_dir, w->server_uid);
	t->running = true;
	t->started_ms = hq_now_ms();
	t->next = w->running;
	t->prev = NULL;
	if (w->running)
		w->running->prev = t;
	w->running = t;
	w->nrunning++;
	worker_report_started(w, t);

	if (mkdir_p(p.cwd) != 0) {
		err = hq_xprintf("Cannot create working directory %s: %s",
		    p.cwd, strerror(errno));
		goto fail;
	}
	if (d->task_dir || t->mn_nhosts > 0) {
		char tmpl[4096];

		snprintf(tmpl, sizeof tmpl, "%s/tXXXXXX", w->work_dir);
		if (mkdtemp(tmpl) == NULL) {
			err = hq_xprintf("Cannot create task directory: %s",
			    strerror(errno));
			goto fail;
		}
		t->task_dir = hq_xstrdup(tmpl);
	}
	if (t->mn_nhosts > 0 && (rc = write_node_files(t)) != 0) {
		err = hq_xprintf("Cannot write the node files: %s",
		    strerror(-rc));
		goto fail;
	}
	/* stdin: /dev/null or a pipe fed from the loop. */
	if (d->stdin_len > 0) {
		if (pipe2(pipefd, O_CLOEXEC) != 0) {
			err = hq_xprintf("Cannot create a pipe: %s",
			    strerror(errno));
			goto fail;
		}
		fds[0] = pipefd[0];
	} else {
		fds[0] = worker_devnull(w, false);
	}
	if ((d->out.kind == HQ_STDIO_STREAM ||
		d->err.kind == HQ_STDIO_STREAM) &&
	    worker_stream_start(w, t, fds, &err) != 0)
		goto fail;
	for (i = 1; i <= 2; i++) {
		const struct hq_stdio *io = i == 1 ? &d->out : &d->err;
		const char *path = i == 1 ? p.out : p.err;

		if (fds[i] >= 0)
			continue; /* a stream pipe */
		if (io->kind == HQ_STDIO_FILE && path != NULL)
			fds[i] = open_output(path);
		else
			fds[i] = worker_devnull(w, true);
		if (fds[i] < 0) {
			err = hq_xprintf("Cannot open %s: %s",
			    path ? path : "/dev/null", strerror(errno));
			goto fail;
		}
	}
	t->out_path = p.out ? hq_xstrdup(p.out) : NULL;
	t->err_path = p.err ? hq_xstrdup(p.err) : NULL;
	t->rm_out = d->out.rm_if_finished;
	t->rm_err = d->err.rm_if_finished;

	build_env(w, t, &p, &env, &cpus_labels);
	argv = hq_xcalloc(d->argc + 1, sizeof *argv);
	if (d->pin == HQ_PIN_TASKSET) {
		if (cpus_labels == NULL) {
			err = hq_xstrdup("Pinning failed, no CPU ids allocated "
					 "for task");
			goto fail;
		}
		if (pin_mask(cpus_labels, &pin, &pin_size, &err) != 0)
			goto fail;
	} else if (d->pin == HQ_PIN_OMP && cpus_labels == NULL) {
		err = hq_xstrdup("Pinning failed, no CPU ids allocated for "
				 "task");
		goto fail;
	}
	for (i = 0; i < d->argc; i++)
		argv[argc++] = d->argv[i];

	{
		bool pin_failed = false;

		rc = task_exec(argv, env.v, p.cwd, fds, pin, pin_size,
		    &pin_failed, &t->pid);
		if (rc != 0 && pin_failed) {
			err = hq_xprintf("Pinning failed, cannot pin the task "
					 "to CPUs %s: %s",
			    cpus_labels, strerror(rc));
			t->pid = 0;
			goto fail;
		}
	}
	if (rc != 0) {
		err = spawn_error(d, p.cwd, rc);
		t->pid = 0;
		goto fail;
	}
	/* Watch the child before returning to the loop, or libev may reap
	 * it first and the status would be lost. */
	ev_child_init(&t->child_w, task_child_cb, t->pid, 0);
	t->child_w.data = t;
	ev_child_start(w->loop, &t->child_w);
	if (d->time_limit_ms > 0) {
		ev_timer_init(&t->limit_w, task_limit_cb,
		    d->time_limit_ms / 1000.0, 0.);
		t->limit_w.data = t;
		ev_timer_start(w->loop, &t->limit_w);
	}
	if (pipefd[1] >= 0) {
		t->stdin_fd = pipefd[1];
		pipefd[1] = -1;
		fcntl(t->stdin_fd, F_SETFL, O_NONBLOCK);
		ev_io_init(&t->stdin_w, stdin_cb, t->stdin_fd, EV_WRITE);
		t->stdin_w.data = t;
		ev_io_start(w->loop, &t->stdin_w);
	}
	goto out;
fail:
	/* Report the start (already queued) and the failure right away. */
	unlink_running(w, t);
	hq_ralloc_release(w->ralloc, &t->alloc);
	worker_report_failed(w, t, err);
	if (t->task_dir != NULL)
		rm_rf(t->task_dir);
	worker_task_free(t);
out:
	for (i = 0; i < 3; i++)
		if (fds[i] >= 0 && fds[i] != w->devnull_r &&
		    fds[i] != w->devnull_w)
			close(fds[i]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	free(err);
	free(argv);
	free(cpus_labels);
	if (pin != NULL)
		CPU_FREE(pin);
	env_free(&env);
	hq_task_paths_fini(&p);
}

/* Benchmark mode: the task "runs" for no time. */
static void
task_bench(struct worker *w, struct wtask *t)
{
	worker_report_finished(w, t);
	hq_ralloc_release(w->ralloc, &t->alloc);
	worker_task_free(t);
}

static void
unlink_queued(struct worker *w, struct wtask *t)
{
	if (t->prev)
		t->prev->next = t->next;
	else
		w->queue_head = t->next;
	if (t->next)
		t->next->prev = t->prev;
	else
		w->queue_tail = t->prev;
	t->next = t->prev = NULL;
	w->nqueued--;
}

void
worker_start_queued(struct worker *w)
{
	struct hq_ralloc_pass pass;
	struct wtask *t, *next;
	bool again;

next_pass:
	again = false;
	/* One pass in queue order: a task that must wait keeps what it
	 * needs from the tasks behind it (resalloc.h), so a strict or
	 * fractional task the server placed here is never starved. */
	hq_ralloc_pass_begin(w->ralloc, &pass);
	for (t = w->queue_head; t != NULL; t = next) {
		const struct hq_task_desc *d = &t->spec->d;
		int rc;

		next = t->next;
		if (d->req.v[t->variant].n_nodes > 0) {
			/* A multi-node task: the server reserved this whole
			 * worker for it; it takes no resources. */
			unlink_queued(w, t);
			if (w->opts.bench) {
				task_bench(w, t);
				again = true;
			} else {
				task_spawn(w, t);
			}
			continue;
		}
		/* The server chose the variant and accounts for it. */
		rc = hq_ralloc_pass_try(w->ralloc, &pass, &d->req.v[t->variant],
		    &t->alloc);
		if (rc == HQ_EINVAL) {
			/* Can never fit here: the server's view of our
			 * resources differs from ours. Fail it loudly. */
			unlink_queued(w, t);
			worker_report_failed(w, t,
			    "The worker cannot provide the resources this "
			    "task requests");
			worker_task_free(t);
			continue;
		}
		if (rc != 0)
			continue;
		unlink_queued(w, t);
		if (w->opts.bench) {
			task_bench(w, t);
			again = true;
		} else {
			task_spawn(w, t);
		}
	}
	hq_ralloc_pass_end(&pass);
	/*
	 * A bench task ends inside the pass, but the pass does not see its
	 * resources come back: without another pass, the tasks that waited
	 * for them would wait for an event that never comes (the server
	 * already filled this worker's queue).
	 */
	if (again && w->queue_head != NULL)
		goto next_pass;
}
