/* SPDX-License-Identifier: MIT */
/* Slurm and PBS scripts and outputs. Pure. */
#include "common/batch.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fmt.h"

static void
batch_nul(struct hq_buf *out)
{
	hq_buf_reserve(out, 1);
	out->data[out->len] = '\0';
}

void
hq_batch_quote(struct hq_buf *out, const char *s)
{
	hq_buf_append_str(out, "\"");
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\' || *s == '$' || *s == '`')
			hq_buf_append_str(out, "\\");
		hq_buf_append(out, s, 1);
	}
	hq_buf_append_str(out, "\"");
	batch_nul(out);
}

/* A word as is when the shell would not change it, else quoted. */
static void
batch_word(struct hq_buf *out, const char *s)
{
	const char *p;

	for (p = s; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) &&
		    strchr("_./-+=:,@%", *p) == NULL)
			break;
	if (*s != '\0' && *p == '\0')
		hq_buf_append_str(out, s);
	else
		hq_batch_quote(out, s);
}

/* 'text' inside single quotes: ' becomes '\''. */
static void
batch_squote(struct hq_buf *out, const char *s)
{
	hq_buf_append_str(out, "'");
	for (; *s != '\0'; s++) {
		if (*s == '\'')
			hq_buf_append_str(out, "'\\''");
		else
			hq_buf_append(out, s, 1);
	}
	hq_buf_append_str(out, "'");
}

void
hq_batch_fmt_walltime(struct hq_buf *out, uint64_t ms)
{
	uint64_t s = (ms + 999) / 1000;

	hq_buf_printf(out, "%02llu:%02llu:%02llu",
	    (unsigned long long)(s / 3600), (unsigned long long)(s / 60 % 60),
	    (unsigned long long)(s % 60));
	batch_nul(out);
}

void
hq_batch_worker_cmd(struct hq_buf *out, const struct hq_batch_job *j)
{
	const struct hq_alloc_params *p = j->p;
	struct hq_buf idle;
	uint32_t i;

	if (p->start_cmd != NULL)
		hq_buf_printf(out, "%s && ", p->start_cmd);
	if (j->rust_log != NULL) {
		hq_buf_append_str(out, "RUST_LOG=");
		hq_batch_quote(out, j->rust_log);
		hq_buf_append_str(out, " ");
	}
	if (p->wrap_cmd != NULL)
		hq_buf_printf(out, "%s ", p->wrap_cmd);
	batch_word(out, j->hq_exe);
	hq_buf_init(&idle);
	hq_fmt_duration(&idle, p->idle_timeout_ms);
	hq_buf_append_str(out, " worker start --idle-timeout ");
	hq_batch_quote(out, (const char *)idle.data);
	hq_buf_fini(&idle);
	hq_buf_printf(out, " --manager \"%s\" --server-dir ",
	    p->manager == HQ_MANAGER_PBS ? "pbs" : "slurm");
	hq_batch_quote(out, j->server_dir);
	for (i = 0; i < p->nworker_args; i++)
		hq_buf_printf(out, " %s", p->worker_args[i]);
	if (p->stop_cmd != NULL)
		hq_buf_printf(out, "; %s", p->stop_cmd);
	batch_nul(out);
}

static void
batch_join(struct hq_buf *out, char *const *v, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		hq_buf_printf(out, "%s%s", i ? " " : "", v[i]);
}

void
hq_batch_script(struct hq_buf *out, const struct hq_batch_job *j)
{
	const struct hq_alloc_params *p = j->p;
	bool slurm = p->manager == HQ_MANAGER_SLURM;
	const char *pre = slurm ? "#SBATCH" : "#PBS";
	struct hq_buf cmd;

	hq_buf_append_str(out, "#!/bin/bash\n");
	if (slurm) {
		hq_buf_printf(out, "%s --nodes=%u\n", pre, j->workers);
		hq_buf_printf(out, "%s --job-name=%s\n", pre, j->name);
		hq_buf_printf(out, "%s --output=%s/stdout\n", pre, j->dir);
		hq_buf_printf(out, "%s --error=%s/stderr\n", pre, j->dir);
		hq_buf_printf(out, "%s --time=", pre);
	} else {
		hq_buf_printf(out, "%s -l select=%u\n", pre, j->workers);
		hq_buf_printf(out, "%s -N %s\n", pre, j->name);
		hq_buf_printf(out, "%s -o %s/stdout\n", pre, j->dir);
		hq_buf_printf(out, "%s -e %s/stderr\n", pre, j->dir);
		hq_buf_printf(out, "%s -l walltime=", pre);
	}
	hq_batch_fmt_walltime(out, p->time_limit_ms);
	hq_buf_append_str(out, "\n");
	if (p->nadditional_args > 0) {
		hq_buf_printf(out, "%s ", pre);
		batch_join(out, p->additional_args, p->nadditional_args);
		hq_buf_append_str(out, "\n");
	}
	/* A dry run is held: the batch system checks it and never starts
	 * it, so no worker connects before it is cancelled. */
	if (j->dry_run)
		hq_buf_printf(out, "%s %s\n", pre, slurm ? "--hold" : "-h");
	hq_buf_append_str(out, "\n");

	hq_buf_init(&cmd);
	hq_batch_worker_cmd(&cmd, j);
	if (j->workers <= 1) {
		hq_buf_append(out, cmd.data, cmd.len);
	} else if (slurm && p->start_cmd == NULL && p->stop_cmd == NULL) {
		hq_buf_printf(out, "srun --overlap --ntasks=%u --nodes=%u %s",
		    j->workers, j->workers, (const char *)cmd.data);
	} else {
		if (slurm)
			hq_buf_printf(out,
			    "srun --overlap --ntasks=%u --nodes=%u ",
			    j->workers, j->workers);
		else
			hq_buf_append_str(out, "pbsdsh -- ");
		hq_buf_append_str(out, "bash -l -c ");
		batch_squote(out, (const char *)cmd.data);
	}
	hq_buf_append_str(out, "\n");
	hq_buf_fini(&cmd);
	batch_nul(out);
}

/* ---- submission output --------------------------------------------------- */

static char *
batch_trim(const char *s)
{
	size_t n;

	while (isspace((unsigned char)*s))
		s++;
	n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	return hq_xstrndup(s, n);
}

static bool
batch_id_ok(const char *id)
{
	const char *p;

	if (*id == '\0')
		return false;
	for (p = id; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && strchr("._-[]@", *p) == NULL)
			return false;
	return true;
}

int
hq_batch_parse_submit(enum hq_manager m, const char *out, char **id,
    struct hq_errbuf *eb)
{
	static const char marker[] = "Submitted batch job ";
	char *t = batch_trim(out);
	int rc;

	if (m == HQ_MANAGER_SLURM) {
		const char *p = strstr(t, marker);
		size_t n;

		if (p == NULL) {
			rc = hq_errf(eb, HQ_EINVAL,
			    "sbatch printed no job id: \"%.200s\"", t);
			free(t);
			return rc;
		}
		p += sizeof marker - 1;
		n = strcspn(p, " \t\r\n");
		*id = hq_xstrndup(p, n);
	} else {
		*id = t;
		t = NULL;
	}
	free(t);
	if (!batch_id_ok(*id)) {
		rc = hq_errf(eb, HQ_EINVAL,
		    "the batch system printed an invalid job id: \"%.200s\"",
		    *id);
		free(*id);
		*id = NULL;
		return rc;
	}
	return 0;
}

/* ---- status ------------------------------------------------------------- */

void
hq_batch_status_free(struct hq_batch_status *st, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n && st != NULL; i++)
		free(st[i].id);
	free(st);
}

static bool
word_is(const char *s, size_t n, const char *w)
{
	return strlen(w) == n && strncmp(s, w, n) == 0;
}

bool
hq_batch_slurm_state(const char *s, enum hq_batch_state *out)
{
	static const char *const queued[] = { "PENDING", "CONFIGURING",
		"REQUEUED", "REQUEUE_FED", "REQUEUE_HOLD", "RESV_DEL_HOLD",
		NULL };
	static const char *const running[] = { "RUNNING", "COMPLETING",
		"SUSPENDED", "STOPPED", "SIGNALING", "STAGE_OUT", "RESIZING",
		NULL };
	static const char *const finished[] = { "COMPLETED", "TIMEOUT", NULL };
	static const char *const failed[] = { "CANCELLED", "FAILED",
		"NODE_FAIL", "PREEMPTED", "OUT_OF_MEMORY", "BOOT_FAIL",
		"DEADLINE", "REVOKED", "SPECIAL_EXIT", NULL };
	static const char *const *const lists[] = { queued, running, finished,
		failed };
	size_t n = strcspn(s, " \t\r\n+");
	uint32_t i, k;

	for (i = 0; i < HQ_ARRAY_LEN(lists); i++)
		for (k = 0; lists[i][k] != NULL; k++)
			if (word_is(s, n, lists[i][k])) {
				*out = (enum hq_batch_state)i;
				return true;
			}
	return false;
}

int
hq_batch_parse_squeue(const char *out, struct hq_batch_status **stp,
    uint32_t *np, struct hq_errbuf *eb)
{
	struct hq_batch_status *st = NULL;
	uint32_t n = 0, cap = 0;
	const char *line = out;

	while (*line != '\0') {
		size_t len = strcspn(line, "\n");
		char *copy = hq_xstrndup(line, len), *t = batch_trim(copy);
		char *bar = strchr(t, '|');
		struct hq_batch_status s;

		free(copy);
		line += len + (line[len] == '\n');
		if (*t == '\0') {
			free(t);
			continue;
		}
		if (bar == NULL || bar == t) {
			int rc = hq_errf(eb, HQ_EINVAL,
			    "unexpected squeue line \"%.200s\"", t);

			free(t);
			hq_batch_status_free(st, n);
			return rc;
		}
		*bar = '\0';
		if (!hq_batch_slurm_state(bar + 1, &s.state)) {
			int rc = hq_errf(eb, HQ_EINVAL,
			    "unknown Slurm job state \"%.100s\" of job %s",
			    bar + 1, t);

			free(t);
			hq_batch_status_free(st, n);
			return rc;
		}
		s.id = hq_xstrdup(t);
		free(t);
		HQ_VEC_PUSH(st, n, cap, s);
	}
	*stp = st;
	*np = n;
	return 0;
}

static bool
pbs_state(const char *s, json_int_t exit_status, enum hq_batch_state *out)
{
	if (s[0] == '\0' || s[1] != '\0')
		return false;
	if (strchr("QHWTSU", s[0]) != NULL)
		*out = HQ_BJ_QUEUED;
	else if (strchr("REB", s[0]) != NULL)
		*out = HQ_BJ_RUNNING;
	else if (strchr("FXC", s[0]) != NULL)
		*out = exit_status == 0 ? HQ_BJ_FINISHED : HQ_BJ_FAILED;
	else
		return false;
	return true;
}

int
hq_batch_parse_qstat(const char *json, struct hq_batch_status **stp,
    uint32_t *np, struct hq_errbuf *eb)
{
	struct hq_batch_status *st = NULL;
	uint32_t n = 0, cap = 0;
	json_error_t jerr;
	json_t *root, *jobs, *job;
	const char *id;
	int rc = 0;

	root = json_loads(json, 0, &jerr);
	if (root == NULL)
		return hq_errf(eb, HQ_EINVAL,
		    "qstat printed malformed JSON: %s (line %d, column %d)",
		    jerr.text, jerr.line, jerr.column);
	jobs = json_object_get(root, "Jobs");
	json_object_foreach(jobs, id, job)
	{
		json_t *state = json_object_get(job, "job_state");
		json_t *exit = json_object_get(job, "Exit_status");
		struct hq_batch_status s;

		if (!json_is_string(state) ||
		    !pbs_state(json_string_value(state),
			json_is_integer(exit) ? json_integer_value(exit) : 0,
			&s.state)) {
			rc = hq_errf(eb, HQ_EINVAL,
			    "qstat: job %s has no valid job_state", id);
			break;
		}
		s.id = hq_xstrdup(id);
		HQ_VEC_PUSH(st, n, cap, s);
	}
	json_decref(root);
	if (rc != 0) {
		hq_batch_status_free(st, n);
		return rc;
	}
	*stp = st;
	*np = n;
	return 0;
}

/* ---- walltime
 * ----------------------------------------------------------------- */

static bool
parse_uint(const char **p, uint64_t *v)
{
	const char *s = *p;

	if (!isdigit((unsigned char)*s))
		return false;
	*v = 0;
	while (isdigit((unsigned char)*s)) {
		if (*v > UINT64_MAX / 100)
			return false;
		*v = *v * 10 + (uint64_t)(*s++ - '0');
	}
	*p = s;
	return true;
}

int
hq_batch_parse_slurm_time(const char *s, uint64_t *ms, struct hq_errbuf *eb)
{
	uint64_t f[3], days = 0, secs;
	const char *p = s;
	bool has_days = false;
	int n = 0;

	if (strcmp(s, "UNLIMITED") == 0 || strcmp(s, "Partition_Limit") == 0 ||
	    strcmp(s, "NONE") == 0) {
		*ms = 0;
		return 0;
	}
	if (strchr(s, '-') != NULL) {
		if (!parse_uint(&p, &days) || *p != '-')
			goto bad;
		p++;
		has_days = true;
	}
	for (;;) {
		if (n == 3 || !parse_uint(&p, &f[n]))
			goto bad;
		n++;
		if (*p == '\0')
			break;
		if (*p++ != ':')
			goto bad;
	}
	if (has_days) /* D-HH[:MM[:SS]] */
		secs =
		    f[0] * 3600 + (n > 1 ? f[1] * 60 : 0) + (n > 2 ? f[2] : 0);
	else if (n == 3) /* HH:MM:SS */
		secs = f[0] * 3600 + f[1] * 60 + f[2];
	else if (n == 2) /* MM:SS */
		secs = f[0] * 60 + f[1];
	else /* minutes */
		secs = f[0] * 60;
	*ms = (days * 86400 + secs) * 1000;
	return 0;
bad:
	return hq_errf(eb, HQ_EINVAL, "invalid Slurm time \"%.60s\"", s);
}

/* The value of "Key=" in scontrol's output, up to the next blank. */
static char *
scontrol_field(const char *out, const char *key)
{
	size_t klen = strlen(key);
	const char *p = out;

	while ((p = strstr(p, key)) != NULL) {
		if ((p == out || isspace((unsigned char)p[-1])) &&
		    p[klen] == '=') {
			p += klen + 1;
			return hq_xstrndup(p, strcspn(p, " \t\r\n"));
		}
		p += klen;
	}
	return NULL;
}

int
hq_batch_slurm_remaining(const char *out, uint64_t *ms, struct hq_errbuf *eb)
{
	char *limit = scontrol_field(out, "TimeLimit");
	char *run = scontrol_field(out, "RunTime");
	uint64_t l, r;
	int rc;

	if (limit == NULL || run == NULL) {
		rc = hq_errf(eb, HQ_EINVAL,
		    "scontrol printed no TimeLimit and RunTime");
	} else if ((rc = hq_batch_parse_slurm_time(limit, &l, eb)) == 0 &&
	    (rc = hq_batch_parse_slurm_time(run, &r, eb)) == 0) {
		*ms = l == 0 ? 0 : l > r ? l - r : 1;
	}
	free(limit);
	free(run);
	return rc;
}

/* PBS walltime "HH:MM:SS" (also "MM:SS", "SS"). */
static int
pbs_walltime(const char *s, uint64_t *ms, struct hq_errbuf *eb)
{
	uint64_t f[3], secs = 0;
	const char *p = s;
	int n = 0, i;

	for (;;) {
		if (n == 3 || !parse_uint(&p, &f[n]))
			return hq_errf(eb, HQ_EINVAL,
			    "invalid PBS walltime \"%.60s\"", s);
		n++;
		if (*p == '\0')
			break;
		if (*p++ != ':')
			return hq_errf(eb, HQ_EINVAL,
			    "invalid PBS walltime \"%.60s\"", s);
	}
	for (i = 0; i < n; i++)
		secs = secs * 60 + f[i];
	*ms = secs * 1000;
	return 0;
}

int
hq_batch_pbs_remaining(const char *json, const char *id, uint64_t *ms,
    struct hq_errbuf *eb)
{
	json_error_t jerr;
	json_t *root, *jobs, *job = NULL, *limit, *used;
	uint64_t l, u = 0;
	int rc;

	if ((root = json_loads(json, 0, &jerr)) == NULL)
		return hq_errf(eb, HQ_EINVAL,
		    "qstat printed malformed JSON: %s (line %d, column %d)",
		    jerr.text, jerr.line, jerr.column);
	jobs = json_object_get(root, "Jobs");
	if (id != NULL)
		job = json_object_get(jobs, id);
	if (job == NULL && json_object_size(jobs) == 1)
		job = json_object_iter_value(json_object_iter(jobs));
	limit =
	    json_object_get(json_object_get(job, "Resource_List"), "walltime");
	used =
	    json_object_get(json_object_get(job, "resources_used"), "walltime");
	if (job == NULL) {
		rc = hq_errf(eb, HQ_EINVAL, "qstat shows no job %s",
		    id ? id : "");
	} else if (!json_is_string(limit)) {
		*ms = 0;
		rc = 0;
	} else if ((rc = pbs_walltime(json_string_value(limit), &l, eb)) == 0 &&
	    (!json_is_string(used) ||
		(rc = pbs_walltime(json_string_value(used), &u, eb)) == 0)) {
		*ms = l > u ? l - u : 1;
	}
	json_decref(root);
	return rc;
}
