/* SPDX-License-Identifier: MIT */
/*
 * Output streaming (spec 2.12, `submit --stream DIR`): a task's stdout and
 * stderr go through pipes read by the loop, in blocks of at most 16 KiB,
 * into one shared .hqs file per stream directory per worker (format in
 * common/hqs.h and docs/STREAMS.md). Every block is written with one
 * writev() as soon as it is read, so nothing is buffered in the worker:
 * when the task ends, what is left in its pipes is read, the end-of-stream
 * chunk is written, and only then is the result reported. Cancel and time
 * limit drop what is left in the pipes and write no end chunk.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/hqs.h"
#include "common/log.h"
#include "worker/worker.h"

/* Reading at task end stops after this much per channel (a grandchild that
 * keeps the pipe open and keeps writing must not hold the report back). */
#define STREAM_DRAIN_MAX (16u << 20)

/* One .hqs file: shared by every task of this worker streaming into 'dir'. */
struct wstream_file {
	struct wstream_file *next;
	char *dir;
	char *path;
	int fd;
	off_t size;  /* bytes of whole chunks written */
	char *error; /* set once a write failed: the file is not used again */
};

/* The streaming state of one task. */
struct wstream {
	struct wtask *t;
	struct wstream_file *file;
	int fd[2]; /* read ends of the stdout/stderr pipes; -1: closed/none */
	ev_io io[2];
	char *error; /* "Streaming: ..." once the stream failed */
	bool exited; /* the task's process is gone (reading the rest) */
};

static void
stream_random_name(char *out, size_t n)
{
	static const char alnum[] = "abcdefghijklmnopqrstuvwxyz"
				    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	uint8_t rnd[64];
	size_t i;

	HQ_ASSERT(n <= sizeof rnd);
	if (hq_random_bytes(rnd, n) != 0) {
		/* Not secret; only unique within the directory (O_EXCL). */
		for (i = 0; i < n; i++)
			rnd[i] = (uint8_t)rand();
	}
	for (i = 0; i < n; i++)
		out[i] = alnum[rnd[i] % (sizeof alnum - 1)];
	out[n] = '\0';
}

/* Write all of iov or fail; on failure the file is cut back to its last
 * whole chunk so that readers see a clean file. */
static int
stream_file_write(struct wstream_file *f, struct iovec *iov, int iovcnt)
{
	size_t total = 0;
	ssize_t n;
	int i, e;

	for (i = 0; i < iovcnt; i++)
		total += iov[i].iov_len;
	while (iovcnt > 0) {
		n = writev(f->fd, iov, iovcnt);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			e = n < 0 ? errno : EIO;
			if (ftruncate(f->fd, f->size) == 0)
				lseek(f->fd, f->size, SEEK_SET);
			f->error = hq_xprintf("Cannot write stream file %s: %s",
			    f->path, strerror(e));
			hq_error("%s", f->error);
			return -e;
		}
		while (iovcnt > 0 && (size_t)n >= iov->iov_len) {
			n -= (ssize_t)iov->iov_len;
			iov++;
			iovcnt--;
		}
		if (iovcnt > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + n;
			iov->iov_len -= (size_t)n;
		}
	}
	f->size += (off_t)total;
	return 0;
}

static struct wstream_file *
stream_file_open(struct worker *w, const char *dir, char **err)
{
	struct wstream_file *f;
	struct hq_errbuf eb;
	struct hq_buf hdr;
	struct iovec iov;
	char name[13];
	char *path = NULL;
	int fd = -1, tries, rc;

	for (f = w->stream_files; f != NULL; f = f->next)
		if (f->error == NULL && strcmp(f->dir, dir) == 0)
			return f;
	if ((rc = worker_mkdir_p(dir)) != 0) {
		*err = hq_xprintf("Streaming: Cannot create stream directory "
				  "%s: %s",
		    dir, strerror(-rc));
		return NULL;
	}
	for (tries = 0; fd < 0 && tries < 16; tries++) {
		stream_random_name(name, 12);
		free(path);
		path = hq_xprintf("%s/%s%s", dir, name, HQ_HQS_SUFFIX);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0) {
		*err = hq_xprintf("Streaming: Cannot create stream file %s: %s",
		    path, strerror(errno));
		free(path);
		return NULL;
	}
	f = hq_xcalloc(1, sizeof *f);
	f->dir = hq_xstrdup(dir);
	f->path = path;
	f->fd = fd;
	hq_buf_init(&hdr);
	if (hq_hqs_encode_header(&hdr, w->worker_id,
		w->server_uid ? w->server_uid : "", &eb) != 0) {
		f->error = hq_xprintf("%s", eb.msg);
	} else {
		iov.iov_base = hdr.data;
		iov.iov_len = hdr.len;
		stream_file_write(f, &iov, 1);
	}
	hq_buf_fini(&hdr);
	f->next = w->stream_files;
	w->stream_files = f;
	if (f->error != NULL) {
		*err = hq_xprintf("Streaming: %s", f->error);
		return NULL;
	}
	hq_debug("Stream file %s created", path);
	return f;
}

/* Append one chunk for the task; on failure the stream records the error. */
static int
stream_put(struct wstream *s, uint32_t channel, const uint8_t *data,
    uint32_t size)
{
	struct hq_hqs_chunk c;
	uint8_t hdr[HQ_HQS_CHUNK_HDR];
	struct iovec iov[2];

	if (s->error != NULL)
		return -1;
	if (s->file->error != NULL) {
		s->error = hq_xprintf("Streaming: %s", s->file->error);
		return -1;
	}
	memset(&c, 0, sizeof c);
	c.time_ms = (int64_t)hq_now_ms();
	c.job = s->t->job;
	c.task = s->t->task;
	c.instance = s->t->instance;
	c.channel = channel;
	c.size = size;
	c.data = data;
	hq_hqs_chunk_header(hdr, &c);
	iov[0].iov_base = hdr;
	iov[0].iov_len = sizeof hdr;
	iov[1].iov_base = (void *)data;
	iov[1].iov_len = size;
	if (stream_file_write(s->file, iov, size > 0 ? 2 : 1) != 0) {
		s->error = hq_xprintf("Streaming: %s", s->file->error);
		return -1;
	}
	return 0;
}

static void
stream_close_channel(struct wstream *s, int ch)
{
	if (s->fd[ch] < 0)
		return;
	ev_io_stop(s->t->w->loop, &s->io[ch]);
	close(s->fd[ch]);
	s->fd[ch] = -1;
}

/*
 * Read one block from a channel. Returns 1 if data was read, 0 at EOF or
 * a stream failure (the channel is then closed), -1 if nothing is there
 * now.
 */
static int
stream_read_block(struct wstream *s, int ch)
{
	uint8_t buf[HQ_HQS_BLOCK];
	ssize_t n;

	n = read(s->fd[ch], buf, sizeof buf);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return -1;
	if (n <= 0) {
		if (n < 0)
			hq_warn("Task %u@%u: reading its output failed: %s",
			    s->t->job, s->t->task, strerror(errno));
		stream_close_channel(s, ch);
		return 0;
	}
	if (stream_put(s, (uint32_t)ch, buf, (uint32_t)n) != 0) {
		/* The task cannot be streamed any more: stop it. It fails
		 * with the stream error when it has exited. */
		stream_close_channel(s, 0);
		stream_close_channel(s, 1);
		if (!s->exited)
			worker_task_kill(s->t);
		return 0;
	}
	return 1;
}

static void
stream_io_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct wstream *s = io->data;
	int ch = io == &s->io[0] ? 0 : 1;

	(void)loop;
	(void)revents;
	stream_read_block(s, ch);
}

int
worker_stream_start(struct worker *w, struct wtask *t, int fds[3], char **err)
{
	const struct hq_task_desc *d = &t->spec->d;
	struct wstream *s;
	int ch, p[2];

	if (t->spec->stream_dir == NULL || t->spec->stream_dir[0] == '\0') {
		*err = hq_xstrdup("Streaming: the task has no stream "
				  "directory");
		return -1;
	}
	/* A full disk or file size limit must fail a write, not kill us. */
	signal(SIGXFSZ, SIG_IGN);
	s = hq_xcalloc(1, sizeof *s);
	s->t = t;
	s->fd[0] = s->fd[1] = -1;
	t->stream = s;
	if ((s->file = stream_file_open(w, t->spec->stream_dir, err)) == NULL)
		return -1;
	for (ch = 0; ch < 2; ch++) {
		const struct hq_stdio *io = ch == 0 ? &d->out : &d->err;

		if (io->kind != HQ_STDIO_STREAM)
			continue;
		if (pipe2(p, O_CLOEXEC) != 0) {
			*err = hq_xprintf("Streaming: Cannot create a pipe: %s",
			    strerror(errno));
			return -1;
		}
		fcntl(p[0], F_SETFL, O_NONBLOCK);
		s->fd[ch] = p[0];
		fds[ch + 1] = p[1];
		ev_io_init(&s->io[ch], stream_io_cb, p[0], EV_READ);
		s->io[ch].data = s;
		ev_io_start(w->loop, &s->io[ch]);
	}
	return 0;
}

char *
worker_stream_finish(struct wtask *t)
{
	struct wstream *s = t->stream;
	size_t got;
	char *err;
	int ch;

	if (s == NULL)
		return NULL;
	/* The task has exited: what it wrote is in the pipes now. */
	s->exited = true;
	for (ch = 0; ch < 2; ch++)
		for (got = 0; s->fd[ch] >= 0 && got < STREAM_DRAIN_MAX;
		     got += HQ_HQS_BLOCK)
			if (stream_read_block(s, ch) < 0)
				break;
	stream_close_channel(s, 0);
	stream_close_channel(s, 1);
	if (s->error == NULL)
		stream_put(s, 0, NULL, 0);
	err = s->error;
	s->error = NULL;
	worker_stream_drop(t);
	return err;
}

void
worker_stream_drop(struct wtask *t)
{
	struct wstream *s = t->stream;

	if (s == NULL)
		return;
	/* A read end is open only while its watcher runs. */
	stream_close_channel(s, 0);
	stream_close_channel(s, 1);
	free(s->error);
	free(s);
	t->stream = NULL;
}

void
worker_stream_close_all(struct worker *w)
{
	struct wstream_file *f, *next;

	for (f = w->stream_files; f != NULL; f = next) {
		next = f->next;
		close(f->fd);
		free(f->dir);
		free(f->path);
		free(f->error);
		free(f);
	}
	w->stream_files = NULL;
}
