/* SPDX-License-Identifier: MIT */
/*
 * hq job submit-file <PATH> [--job ID]: submit a TOML job definition
 * (spec 2.7). The file becomes a submit in src/common/jobfile.c; the
 * server validates it again (ids, dependencies into an open job).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/jobfile.h"

/* Larger files could not be sent anyway (HQ_MAX_FRAME_CLIENT_IN). */
#define JOBFILE_MAX_BYTES (256u << 20)

static const struct hq_opt jobfile_opts[] = {
	{ "job", 0, HQ_OPT_VALUE, "JOB_ID",
	    "Attach the submission to an open job" },
	{ NULL, 0, 0, NULL, NULL },
};

static char *
jobfile_read(struct cli *c, const char *path, size_t *lenp)
{
	struct stat sb;
	size_t len = 0, cap = 65536;
	char *buf;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		cli_fail(c, "Cannot read %s: %s", path, strerror(errno));
	if (fstat(fd, &sb) == 0 && S_ISDIR(sb.st_mode))
		cli_fail(c, "Cannot read %s: %s", path, strerror(EISDIR));
	buf = hq_xmalloc(cap);
	while ((n = read(fd, buf + len, cap - len)) > 0) {
		len += (size_t)n;
		if (len > JOBFILE_MAX_BYTES)
			cli_fail(c,
			    "Cannot read %s: the file is larger than "
			    "%u MiB",
			    path, JOBFILE_MAX_BYTES >> 20);
		if (len == cap) {
			cap *= 2;
			buf = hq_xrealloc(buf, cap);
		}
	}
	if (n < 0)
		cli_fail(c, "Cannot read %s: %s", path, strerror(errno));
	close(fd);
	*lenp = len;
	return buf;
}

int
cmd_job_submit_file(struct cli *c, int argc, char **argv)
{
	struct hq_jobfile_opts o;
	struct hq_jobfile jf;
	struct hq_errbuf eb;
	struct hq_args a;
	struct hq_cmsg m;
	struct hq_smsg r;
	char cwd[PATH_MAX], *text;
	const char *v;
	uint32_t job_id = 0;
	size_t len;

	cli_parse(c, &a, jobfile_opts, argc, argv, 1, false, "<PATH>",
	    "Submit a job from a job definition file");
	if (a.npos < 1)
		cli_fail(c,
		    "error: the following required arguments were not "
		    "provided:\n  <PATH>\n\nFor more information, try "
		    "'--help'.");
	if ((v = hq_args_get(&a, "job")) != NULL &&
	    hq_parse_u32(v, &job_id, &eb) != 0)
		cli_fail(c,
		    "error: invalid value '%s' for '--job <JOB>': "
		    "%s\n\nFor more information, try '--help'.",
		    v, eb.msg);
	if (getcwd(cwd, sizeof cwd) == NULL)
		cli_fail(c, "Cannot determine the current directory: %s",
		    strerror(errno));
	text = jobfile_read(c, a.pos[0], &len);
	memset(&o, 0, sizeof o);
	o.cwd = cwd;
	o.open_job = v != NULL;
	if (hq_jobfile_parse(text, len, &o, &jf, &eb) != 0)
		cli_fail(c, "Invalid job definition file %s: %s", a.pos[0],
		    eb.msg);
	free(text);

	memset(&m, 0, sizeof m);
	m.kind = HQ_CMSG_SUBMIT;
	m.job_id = job_id;
	m.name = jf.name;
	m.has_max_fails = jf.has_max_fails;
	m.max_fails = jf.max_fails;
	m.submit = jf.submit; /* moved: freed with m */
	memset(&jf, 0, sizeof jf);
	cli_connect(c);
	cli_request(c, &m, &r);
	if (r.kind == HQ_SMSG_ERROR)
		cli_fail(c, "%s", r.message ? r.message : "server error");
	if (r.kind != HQ_SMSG_SUBMIT)
		cli_fail(c, "unexpected reply to the submit");
	job_id = r.job_id;
	hq_smsg_fini(&r);
	if (c->mode == CLI_MODE_JSON) {
		json_t *j = json_pack("{s:I}", "id", (json_int_t)job_id);

		cli_print_json(c, j);
		json_decref(j);
	} else if (c->mode == CLI_MODE_QUIET) {
		printf("%u\n", job_id);
	} else {
		printf("Job submitted successfully, job ID: %u\n", job_id);
	}
	hq_cmsg_fini(&m);
	hq_args_fini(&a);
	return 0;
}
