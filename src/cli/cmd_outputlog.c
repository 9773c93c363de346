/* SPDX-License-Identifier: MIT */
/*
 * hq output-log <DIR> [--server-uid UID] summary|jobs|show|cat|export
 * (spec 1.10, 3.1, 3.2): reads the .hqs files that workers stream task
 * output into. Every file is mapped and checked chunk by chunk (CRC-32C),
 * then indexed by job, task and instance; only the last instance of a task
 * counts, older ones are "superseded" and appear only in the summary.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/jsonout.h"
#include "cli/table.h"
#include "common/fmt.h"
#include "common/hqs.h"
#include "common/log.h"

struct ol_file {
	char *path;
	const uint8_t *map;
	size_t len;
	struct hq_hqs_header hdr;
};

/* One chunk of some file; size 0 is the end of the instance's stream. */
struct ol_chunk {
	int64_t time_ms;
	uint32_t job, task, instance, channel, size;
	uint32_t file;
	size_t pos; /* of the chunk in the file */
	size_t off; /* of its data */
};

/* A task: its chunks are chunks[first, end) (sorted), the last instance's
 * are chunks[last, end). */
struct ol_task {
	uint32_t job, task;
	size_t first, last, end;
	bool finished; /* the last instance's stream has ended */
};

struct ol {
	struct cli *c;
	const char *dir;
	struct ol_file *files;
	uint32_t nfiles, files_cap;
	struct ol_chunk *chunks;
	size_t nchunks, chunks_cap;
	struct ol_task *tasks;
	size_t ntasks, tasks_cap;
};

/* ---- reading the directory ----------------------------------------------- */

static int
ol_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Map one file and check its header; false (with a warning) to skip it. */
static bool
ol_map_file(struct ol *o, const char *path, struct ol_file *f)
{
	struct hq_hqs_reader r;
	struct hq_errbuf eb;
	struct stat sb;
	void *map;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		cli_fail(o->c, "Cannot open %s: %s", path, strerror(errno));
	if (fstat(fd, &sb) != 0)
		cli_fail(o->c, "Cannot read %s: %s", path, strerror(errno));
	if (!S_ISREG(sb.st_mode) || sb.st_size == 0) {
		close(fd);
		hq_warn("Skipping %s: %s", path,
		    S_ISREG(sb.st_mode) ? "the file is empty"
					: "not a regular file");
		return false;
	}
	map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		cli_fail(o->c, "Cannot read %s: %s", path, strerror(errno));
	if (hq_hqs_reader_open(&r, map, (size_t)sb.st_size, &eb) != 0) {
		munmap(map, (size_t)sb.st_size);
		hq_warn("Skipping %s: %s", path, eb.msg);
		return false;
	}
	f->path = hq_xstrdup(path);
	f->map = map;
	f->len = (size_t)sb.st_size;
	f->hdr = r.hdr;
	return true;
}

static void
ol_open_files(struct ol *o, const char *server_uid)
{
	char **names = NULL, **uids = NULL;
	size_t nnames = 0, cap = 0, i, nuids = 0, j;
	struct dirent *de;
	struct ol_file f;
	DIR *d;

	if ((d = opendir(o->dir)) == NULL)
		cli_fail(o->c, "Cannot read directory %s: %s", o->dir,
		    strerror(errno));
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name), sl = strlen(HQ_HQS_SUFFIX);

		if (n > sl && strcmp(de->d_name + n - sl, HQ_HQS_SUFFIX) == 0)
			HQ_VEC_PUSH(names, nnames, cap, hq_xstrdup(de->d_name));
	}
	closedir(d);
	if (nnames == 0)
		cli_fail(o->c, "No log files found");
	qsort(names, nnames, sizeof *names, ol_name_cmp);
	for (i = 0; i < nnames; i++) {
		char *path = hq_path_join(o->dir, names[i]);

		if (ol_map_file(o, path, &f)) {
			if (server_uid != NULL &&
			    strcmp(server_uid, f.hdr.server_uid) != 0) {
				hq_debug("%s ignored: server uid %s", path,
				    f.hdr.server_uid);
				munmap((void *)f.map, f.len);
				free(f.path);
			} else {
				HQ_VEC_PUSH(o->files, o->nfiles, o->files_cap,
				    f);
			}
		}
		free(path);
		free(names[i]);
	}
	free(names);
	for (i = 0; i < o->nfiles; i++) {
		for (j = 0; j < nuids; j++)
			if (strcmp(uids[j], o->files[i].hdr.server_uid) == 0)
				break;
		if (j == nuids) {
			uids = hq_xreallocarray(uids, nuids + 1, sizeof *uids);
			uids[nuids++] = o->files[i].hdr.server_uid;
		}
	}
	if (nuids > 1) {
		struct hq_buf b;

		qsort(uids, nuids, sizeof *uids, ol_name_cmp);
		hq_buf_init(&b);
		hq_buf_append_str(&b,
		    "Found streams from multiple server "
		    "instances:\n");
		for (j = 0; j < nuids; j++)
			hq_buf_printf(&b, "%s\n", uids[j]);
		hq_buf_append_str(&b,
		    "Use --server-uid=... to specify "
		    "server uid");
		hq_buf_append(&b, "", 1);
		cli_fail(o->c, "%s", (char *)b.data);
	}
	free(uids);
}

static void
ol_read_chunks(struct ol *o, uint32_t fi)
{
	struct ol_file *f = &o->files[fi];
	struct hq_hqs_reader r;
	struct hq_hqs_chunk c;
	enum hq_hqs_status st;
	struct hq_errbuf eb;
	struct ol_chunk oc;

	if (hq_hqs_reader_open(&r, f->map, f->len, &eb) != 0)
		cli_fail(o->c, "%s: %s", f->path, eb.msg);
	for (;;) {
		size_t pos = r.off;

		if (hq_hqs_reader_next(&r, &c, &st, &eb) != 0)
			cli_fail(o->c, "%s: %s", f->path, eb.msg);
		if (st == HQ_HQS_END)
			break;
		if (st == HQ_HQS_TRUNCATED) {
			hq_warn("%s ends inside a chunk at offset %zu (a "
				"worker crashed or is still writing it); the "
				"last %zu bytes are ignored",
			    f->path, r.off, f->len - r.off);
			break;
		}
		memset(&oc, 0, sizeof oc);
		oc.time_ms = c.time_ms;
		oc.job = c.job;
		oc.task = c.task;
		oc.instance = c.instance;
		oc.channel = c.channel;
		oc.size = c.size;
		oc.file = fi;
		oc.pos = pos;
		oc.off = c.size > 0 ? (size_t)(c.data - f->map) : 0;
		HQ_VEC_PUSH(o->chunks, o->nchunks, o->chunks_cap, oc);
	}
}

#define OL_CMP(a, b)                               \
	do {                                       \
		if ((a) != (b))                    \
			return (a) < (b) ? -1 : 1; \
	} while (0)

/* Task order, then instances, then the order they were written in. */
static int
ol_chunk_cmp(const void *pa, const void *pb)
{
	const struct ol_chunk *a = pa, *b = pb;

	OL_CMP(a->job, b->job);
	OL_CMP(a->task, b->task);
	OL_CMP(a->instance, b->instance);
	OL_CMP(a->file, b->file);
	OL_CMP(a->pos, b->pos);
	return 0;
}

static void
ol_index(struct ol *o)
{
	size_t i, j;
	uint32_t fi;

	for (fi = 0; fi < o->nfiles; fi++)
		ol_read_chunks(o, fi);
	if (o->nchunks > 0)
		qsort(o->chunks, o->nchunks, sizeof *o->chunks, ol_chunk_cmp);
	for (i = 0; i < o->nchunks; i = j) {
		struct ol_task t;

		memset(&t, 0, sizeof t);
		t.job = o->chunks[i].job;
		t.task = o->chunks[i].task;
		t.first = t.last = i;
		for (j = i; j < o->nchunks && o->chunks[j].job == t.job &&
		     o->chunks[j].task == t.task;
		     j++)
			if (o->chunks[j].instance != o->chunks[t.last].instance)
				t.last = j;
		t.end = j;
		for (j = t.last; j < t.end; j++)
			if (o->chunks[j].size == 0)
				t.finished = true;
		j = t.end;
		HQ_VEC_PUSH(o->tasks, o->ntasks, o->tasks_cap, t);
	}
}

static void
ol_fini(struct ol *o)
{
	uint32_t i;

	for (i = 0; i < o->nfiles; i++) {
		munmap((void *)o->files[i].map, o->files[i].len);
		free(o->files[i].path);
	}
	free(o->files);
	free(o->chunks);
	free(o->tasks);
}

static const uint8_t *
ol_data(const struct ol *o, const struct ol_chunk *c)
{
	return o->files[c->file].map + c->off;
}

/* The task entry, or NULL. Tasks are sorted by (job, task). */
static const struct ol_task *
ol_find_task(const struct ol *o, uint32_t job, uint32_t task)
{
	size_t lo = 0, hi = o->ntasks;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct ol_task *t = &o->tasks[mid];

		if (t->job < job || (t->job == job && t->task < task))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < o->ntasks && o->tasks[lo].job == job &&
	    o->tasks[lo].task == task)
		return &o->tasks[lo];
	return NULL;
}

/*
 * The tasks of 'job' that a command works on: all in id order, or those
 * of 'sel' in its order. Fails with "Job N not found" / "Task N not
 * found". Caller frees the array.
 */
static const struct ol_task **
ol_gather(struct ol *o, uint32_t job, const struct hq_idset *sel, size_t *n)
{
	const struct ol_task **out = NULL;
	size_t cap = 0, i;
	uint32_t r, k;

	*n = 0;
	for (i = 0; i < o->ntasks && o->tasks[i].job != job; i++)
		;
	if (i == o->ntasks)
		cli_fail(o->c, "Job %u not found", job);
	if (sel == NULL) {
		for (; i < o->ntasks && o->tasks[i].job == job; i++)
			HQ_VEC_PUSH(out, *n, cap, &o->tasks[i]);
		return out;
	}
	for (r = 0; r < sel->n; r++)
		for (k = 0; k < sel->r[r].count; k++) {
			uint32_t id = sel->r[r].start + k * sel->r[r].step;
			const struct ol_task *t = ol_find_task(o, job, id);

			if (t == NULL)
				cli_fail(o->c, "Task %u not found", id);
			HQ_VEC_PUSH(out, *n, cap, t);
		}
	return out;
}

/* ---- subcommands --------------------------------------------------------- */

static void
ol_summary(struct ol *o)
{
	uint64_t n_jobs = 0, n_streams = 0, n_opened = 0, size[2] = { 0, 0 },
		 sup[2] = { 0, 0 };
	size_t i, j;

	for (i = 0; i < o->ntasks; i++) {
		const struct ol_task *t = &o->tasks[i];

		if (i == 0 || o->tasks[i - 1].job != t->job)
			n_jobs++;
		if (!t->finished)
			n_opened++;
		for (j = t->first; j < t->end; j++) {
			const struct ol_chunk *c = &o->chunks[j];

			if (j == t->first ||
			    c->instance != o->chunks[j - 1].instance)
				n_streams++;
			if (j >= t->last)
				size[c->channel] += c->size;
			else
				sup[c->channel] += c->size;
		}
	}
	if (o->c->mode == CLI_MODE_JSON) {
		json_t *s = json_object(), *root;

		json_object_set_new(s, "n_files", json_integer(o->nfiles));
		json_object_set_new(s, "n_jobs",
		    json_integer((json_int_t)n_jobs));
		json_object_set_new(s, "n_tasks",
		    json_integer((json_int_t)o->ntasks));
		json_object_set_new(s, "n_streams",
		    json_integer((json_int_t)n_streams));
		json_object_set_new(s, "n_opened",
		    json_integer((json_int_t)n_opened));
		json_object_set_new(s, "stdout_size",
		    json_integer((json_int_t)size[0]));
		json_object_set_new(s, "stderr_size",
		    json_integer((json_int_t)size[1]));
		json_object_set_new(s, "n_superseded",
		    json_integer((json_int_t)(n_streams - o->ntasks)));
		json_object_set_new(s, "superseded_stdout_size",
		    json_integer((json_int_t)sup[0]));
		json_object_set_new(s, "superseded_stderr_size",
		    json_integer((json_int_t)sup[1]));
		root =
		    json_pack("{s:s, s:o}", "filename", o->dir, "summary", s);
		cli_print_json(o->c, root);
		json_decref(root);
	} else if (o->c->mode == CLI_MODE_CLI) {
		struct hq_table *tb = hq_table_create(2);
		char num[6][32];
		struct hq_buf b1, b2;
		const char *row[2];

		hq_buf_init(&b1);
		hq_buf_init(&b2);
		snprintf(num[0], sizeof num[0], "%u", o->nfiles);
		snprintf(num[1], sizeof num[1], "%llu",
		    (unsigned long long)n_jobs);
		snprintf(num[2], sizeof num[2], "%zu", o->ntasks);
		snprintf(num[3], sizeof num[3], "%llu",
		    (unsigned long long)n_opened);
		snprintf(num[4], sizeof num[4], "%llu",
		    (unsigned long long)(n_streams - o->ntasks));
		hq_fmt_size(&b1, size[0]);
		hq_buf_append_str(&b1, " / ");
		hq_fmt_size(&b1, size[1]);
		hq_fmt_size(&b2, sup[0]);
		hq_buf_append_str(&b2, " / ");
		hq_fmt_size(&b2, sup[1]);
#define OL_ROW(k, v)                       \
	do {                               \
		row[0] = (k);              \
		row[1] = (v);              \
		hq_table_add_row(tb, row); \
	} while (0)
		OL_ROW("Path", o->dir);
		OL_ROW("Files", num[0]);
		OL_ROW("Jobs", num[1]);
		OL_ROW("Tasks", num[2]);
		OL_ROW("Opened streams", num[3]);
		OL_ROW("Stdout/stderr size", (char *)b1.data);
		OL_ROW("Superseded streams", num[4]);
		OL_ROW("Superseded stdout/stderr size", (char *)b2.data);
#undef OL_ROW
		cli_kv_print(o->c, tb);
		hq_table_destroy(tb);
		hq_buf_fini(&b1);
		hq_buf_fini(&b2);
	}
}

static void
ol_jobs(struct ol *o)
{
	size_t i;

	for (i = 0; i < o->ntasks; i++)
		if (i == 0 || o->tasks[i - 1].job != o->tasks[i].job)
			printf("%u\n", o->tasks[i].job);
	o->c->printed = true;
}

static int
ol_digits(uint32_t v)
{
	int n = 1;

	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n;
}

/* Time order; ties in task order, stdout before stderr, then file order. */
static int
ol_show_cmp(const void *pa, const void *pb)
{
	const struct ol_chunk *a = *(const struct ol_chunk *const *)pa;
	const struct ol_chunk *b = *(const struct ol_chunk *const *)pb;

	OL_CMP(a->time_ms, b->time_ms);
	OL_CMP(a->job, b->job);
	OL_CMP(a->task, b->task);
	OL_CMP(a->channel, b->channel);
	OL_CMP(a->file, b->file);
	OL_CMP(a->pos, b->pos);
	return 0;
}

static void
ol_show(struct ol *o, bool has_job, uint32_t job, int channel)
{
	/* Background colours by task id, as HyperQueue's `show` uses. */
	static const char *const bg[] = { "41", "42", "43", "44", "45", "46" };
	const struct ol_chunk **sel = NULL;
	size_t nsel = 0, cap = 0, i, j;
	uint32_t max_job = 0, max_task = 0;
	int wj, wt;

	if (o->ntasks == 0)
		return;
	for (i = 0; i < o->ntasks; i++) {
		const struct ol_task *t = &o->tasks[i];

		max_job = HQ_MAX(max_job, t->job);
		max_task = HQ_MAX(max_task, t->task);
		if (has_job && t->job != job)
			continue;
		for (j = t->last; j < t->end; j++)
			if (o->chunks[j].size > 0 &&
			    (channel < 0 ||
				o->chunks[j].channel == (uint32_t)channel))
				HQ_VEC_PUSH(sel, nsel, cap, &o->chunks[j]);
	}
	wj = ol_digits(max_job);
	wt = ol_digits(max_task);
	if (nsel > 0)
		qsort(sel, nsel, sizeof *sel, ol_show_cmp);
	for (i = 0; i < nsel; i++) {
		const struct ol_chunk *c = sel[i];
		const uint8_t *data = ol_data(o, c);

		if (o->c->colors)
			printf("\x1b[%sm%0*u.%0*u:%u>\x1b[0m ",
			    bg[c->task % HQ_ARRAY_LEN(bg)], wj, c->job, wt,
			    c->task, c->channel);
		else
			printf("%0*u.%0*u:%u> ", wj, c->job, wt, c->task,
			    c->channel);
		fwrite(data, 1, c->size, stdout);
		if (data[c->size - 1] != '\n')
			putchar('\n');
	}
	free(sel);
	o->c->printed = true;
}

static void
ol_cat(struct ol *o, uint32_t job, int channel, const struct hq_idset *sel,
    bool allow_unfinished)
{
	const struct ol_task **ts;
	size_t n, i, j;

	ts = ol_gather(o, job, sel, &n);
	if (!allow_unfinished)
		for (i = 0; i < n; i++)
			if (!ts[i]->finished)
				cli_fail(o->c,
				    "Stream for task %u is not finished",
				    ts[i]->task);
	for (i = 0; i < n; i++)
		for (j = ts[i]->last; j < ts[i]->end; j++) {
			const struct ol_chunk *c = &o->chunks[j];

			if (c->size > 0 && c->channel == (uint32_t)channel &&
			    fwrite(ol_data(o, c), 1, c->size, stdout) !=
				c->size)
				cli_fail(o->c, "Cannot write the output: %s",
				    strerror(errno));
		}
	free(ts);
	o->c->printed = true;
}

/*
 * Append 'p' to 'out' as valid UTF-8: every ill-formed sequence (its
 * maximal valid prefix, at least one byte) becomes U+FFFD, as Rust's
 * String::from_utf8_lossy does.
 */
static void
ol_utf8_lossy(struct hq_buf *out, const uint8_t *p, size_t len)
{
	size_t i = 0, k, need;
	uint8_t lo, hi;

	while (i < len) {
		uint8_t b = p[i];

		if (b < 0x80) {
			hq_buf_append(out, &b, 1);
			i++;
			continue;
		}
		lo = 0x80;
		hi = 0xbf;
		if (b >= 0xc2 && b <= 0xdf)
			need = 1;
		else if (b >= 0xe0 && b <= 0xef)
			need = 2;
		else if (b >= 0xf0 && b <= 0xf4)
			need = 3;
		else
			need = 0;
		if (b == 0xe0)
			lo = 0xa0;
		else if (b == 0xed)
			hi = 0x9f;
		else if (b == 0xf0)
			lo = 0x90;
		else if (b == 0xf4)
			hi = 0x8f;
		for (k = 1; k <= need && i + k < len; k++) {
			uint8_t cb = p[i + k];

			if (cb < (k == 1 ? lo : 0x80) ||
			    cb > (k == 1 ? hi : 0xbf))
				break;
		}
		if (need > 0 && k == need + 1) {
			hq_buf_append(out, p + i, need + 1);
			i += need + 1;
		} else {
			hq_buf_append(out, "\xef\xbf\xbd", 3);
			i += k > 1 ? k : 1;
		}
	}
}

static void
ol_export(struct ol *o, uint32_t job, const struct hq_idset *sel)
{
	const struct ol_task **ts;
	json_t *arr = json_array();
	struct hq_buf b;
	size_t n, i, j;

	ts = ol_gather(o, job, sel, &n);
	hq_buf_init(&b);
	for (i = 0; i < n; i++) {
		hq_buf_reset(&b);
		for (j = ts[i]->last; j < ts[i]->end; j++) {
			const struct ol_chunk *c = &o->chunks[j];

			if (c->size > 0 && c->channel == HQ_HQS_STDOUT)
				ol_utf8_lossy(&b, ol_data(o, c), c->size);
		}
		json_array_append_new(arr,
		    json_pack("{s:I, s:b, s:s%}", "id", (json_int_t)ts[i]->task,
			"finished", ts[i]->finished, "stdout",
			b.len ? (char *)b.data : "", b.len));
	}
	hq_json_print(stdout, arr);
	o->c->printed = true;
	json_decref(arr);
	hq_buf_fini(&b);
	free(ts);
}

/* ---- the command
 * ------------------------------------------------------------------ */

static const struct hq_opt ol_opts[] = {
	{ "server-uid", 0, HQ_OPT_VALUE, "SERVER_UID",
	    "Read only the streams of this server instance" },
	{ NULL, 0, 0, NULL, NULL },
};

static const struct hq_opt ol_none_opts[] = {
	{ NULL, 0, 0, NULL, NULL },
};

static const struct hq_opt ol_show_opts[] = {
	{ "job", 0, HQ_OPT_VALUE, "JOB", "Show only this job" },
	{ "channel", 0, HQ_OPT_VALUE, "CHANNEL",
	    "Show only this channel (stdout or stderr)" },
	{ NULL, 0, 0, NULL, NULL },
};

static const struct hq_opt ol_cat_opts[] = {
	{ "task", 0, HQ_OPT_VALUE, "TASK",
	    "Tasks to print, in this order (default: all, by id)" },
	{ "allow-unfinished", 0, HQ_OPT_FLAG, NULL,
	    "Print also streams that are not finished" },
	{ NULL, 0, 0, NULL, NULL },
};

static const struct hq_opt ol_export_opts[] = {
	{ "task", 0, HQ_OPT_VALUE, "TASK", "Tasks to export, in this order" },
	{ NULL, 0, 0, NULL, NULL },
};

static int
ol_channel(struct cli *c, const char *v, const char *what)
{
	if (strcmp(v, "stdout") == 0)
		return HQ_HQS_STDOUT;
	if (strcmp(v, "stderr") == 0)
		return HQ_HQS_STDERR;
	cli_fail(c,
	    "error: invalid value '%s' for '%s'\n  [possible values: stdout, "
	    "stderr]\n\nFor more information, try '--help'.",
	    v, what);
}

static uint32_t
ol_job_id(struct cli *c, const char *v, const char *what)
{
	struct hq_errbuf eb;
	uint32_t id;

	if (hq_parse_u32(v, &id, &eb) != 0)
		cli_fail(c,
		    "error: invalid value '%s' for '%s': %s\n\nFor more "
		    "information, try '--help'.",
		    v, what, eb.msg);
	return id;
}

static void
ol_missing(struct cli *c, const char *what)
{
	cli_fail(c,
	    "error: the following required arguments were not provided:\n"
	    "  %s\n\nFor more information, try '--help'.",
	    what);
}

int
cmd_output_log(struct cli *c, int argc, char **argv)
{
	static char path[64];
	struct hq_args a, s;
	struct hq_idset ids;
	struct hq_errbuf eb;
	struct ol o;
	const char *sub, *uid, *v;
	char **sargv;
	int sargc;

	cli_parse(c, &a, ol_opts, argc, argv, 1, true, "<PATH> <COMMAND>",
	    "Read the output of streamed tasks (summary, jobs, show, cat, "
	    "export)");
	if (a.npos < 1)
		ol_missing(c, "<PATH>");
	if (a.ntrail == 0)
		cli_fail(c,
		    "error: 'hq output-log' requires a subcommand but "
		    "one was not provided\n  [subcommands: summary, "
		    "jobs, show, cat, export]\n\nFor more information, "
		    "try '--help'.");
	/* cli_parse() reuses one option table: take what we need first. */
	uid = hq_args_get(&a, "server-uid");
	sub = a.trail[0];
	sargv = (char **)a.trail + 1;
	sargc = (int)a.ntrail - 1;
	memset(&o, 0, sizeof o);
	o.c = c;
	o.dir = a.pos[0];
	memset(&ids, 0, sizeof ids);
	snprintf(path, sizeof path, "output-log <PATH> %s", sub);
	c->path = path;
	if (strcmp(sub, "summary") == 0 || strcmp(sub, "jobs") == 0) {
		cli_parse(c, &s, ol_none_opts, sargc, sargv, 0, false, NULL,
		    strcmp(sub, "jobs") == 0
			? "Print the ids of the jobs in the stream files"
			: "Summary of the stream files");
		ol_open_files(&o, uid);
		ol_index(&o);
		if (strcmp(sub, "jobs") == 0)
			ol_jobs(&o);
		else
			ol_summary(&o);
	} else if (strcmp(sub, "show") == 0) {
		uint32_t job = 0;
		int ch = -1;

		cli_parse(c, &s, ol_show_opts, sargc, sargv, 0, false, NULL,
		    "Print the chunks in time order as J.T:C> data");
		if ((v = hq_args_get(&s, "job")) != NULL)
			job = ol_job_id(c, v, "--job <JOB>");
		if ((v = hq_args_get(&s, "channel")) != NULL)
			ch = ol_channel(c, v, "--channel <CHANNEL>");
		ol_open_files(&o, uid);
		ol_index(&o);
		ol_show(&o, hq_args_get(&s, "job") != NULL, job, ch);
	} else if (strcmp(sub, "cat") == 0 || strcmp(sub, "export") == 0) {
		bool cat = strcmp(sub, "cat") == 0;
		uint32_t job;
		int ch = HQ_HQS_STDOUT;

		cli_parse(c, &s, cat ? ol_cat_opts : ol_export_opts, sargc,
		    sargv, cat ? 2 : 1, false,
		    cat ? "<JOB> <stdout|stderr>" : "<JOB>",
		    cat ? "Print the raw output of a job's tasks"
			: "Print the stdout of a job's tasks as JSON");
		if (s.npos < 1)
			ol_missing(c, cat ? "<JOB>\n  <CHANNEL>" : "<JOB>");
		if (cat && s.npos < 2)
			ol_missing(c, "<CHANNEL>");
		job = ol_job_id(c, s.pos[0], "<JOB>");
		if (cat)
			ch = ol_channel(c, s.pos[1], "<CHANNEL>");
		if ((v = hq_args_get(&s, "task")) != NULL &&
		    hq_parse_idset(v, &ids, &eb) != 0)
			cli_fail(c,
			    "error: invalid value '%s' for '--task <TASK>': "
			    "%s\n\nFor more information, try '--help'.",
			    v, eb.msg);
		ol_open_files(&o, uid);
		ol_index(&o);
		if (cat)
			ol_cat(&o, job, ch, v ? &ids : NULL,
			    hq_args_flag(&s, "allow-unfinished"));
		else
			ol_export(&o, job, v ? &ids : NULL);
	} else {
		cli_fail(c,
		    "error: unrecognized subcommand '%s'\n  [subcommands: "
		    "summary, jobs, show, cat, export]\n\nFor more "
		    "information, try '--help'.",
		    sub);
	}
	fflush(stdout);
	hq_idset_fini(&ids);
	hq_args_fini(&s);
	hq_args_fini(&a);
	ol_fini(&o);
	return 0;
}
