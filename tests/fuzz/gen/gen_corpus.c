/* SPDX-License-Identifier: MIT */
/*
 * Writes the seed corpora of the fuzz targets from real messages, events
 * and snapshots built with the project's own encoders (tools/fuzz.sh gen).
 * Usage: gen_corpus DIR (DIR/<target>/<name> files are overwritten).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/access.h"
#include "common/buf.h"
#include "common/log.h"
#include "common/version.h"
#include "common/wire.h"
#include "fuzz_state.h"

static const char *gen_dir;

static void
gen_write(const char *target, const char *name, const void *p, size_t n)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", gen_dir, target);
	if (mkdir(path, 0755) != 0 && errno != EEXIST)
		hq_fatal("mkdir %s", path);
	snprintf(path, sizeof path, "%s/%s/%s", gen_dir, target, name);
	if ((f = fopen(path, "wb")) == NULL)
		hq_fatal("open %s", path);
	if (n > 0 && fwrite(p, 1, n, f) != n)
		hq_fatal("write %s", path);
	fclose(f);
}

static void
gen_buf(const char *target, const char *name, struct hq_buf *b)
{
	gen_write(target, name, b->data, b->len);
	hq_buf_reset(b);
}

static void
gen_str(const char *target, const char *name, const char *s)
{
	gen_write(target, name, s, strlen(s));
}

/* A task description: command, env, resources with two variants. */
static void
gen_desc(struct hq_task_desc *d, bool variants)
{
	struct hq_errbuf eb;
	struct hq_res_entry e;

	memset(d, 0, sizeof *d);
	d->argc = 2;
	d->argv = hq_xcalloc(3, sizeof *d->argv);
	d->argv[0] = hq_xstrdup("echo");
	d->argv[1] = hq_xstrdup("%{TASK_ID}");
	d->nenv = 1;
	d->env = hq_xcalloc(1, sizeof *d->env);
	d->env[0].key = hq_xstrdup("K");
	d->env[0].value = hq_xstrdup("V");
	d->cwd = hq_xstrdup("%{SUBMIT_DIR}/w");
	d->out.path = hq_xstrdup("out-%{JOB_ID}.%{TASK_ID}");
	d->err.kind = HQ_STDIO_NONE;
	d->crash_limit = HQ_CRASH_DEFAULT;
	d->time_limit_ms = 60000;
	d->priority = 3;
	hq_res_request_default(&d->req);
	if (!variants)
		return;
	if (hq_parse_request_entry("gpus", "1 compact", &e, &eb) != 0 ||
	    hq_variant_add_entry(&d->req.v[0], &e, &eb) != 0)
		hq_fatalx("%s", eb.msg);
	d->req.v = hq_xreallocarray(d->req.v, 2, sizeof *d->req.v);
	memset(&d->req.v[1], 0, sizeof d->req.v[1]);
	d->req.n = 2;
	d->req.v[1].weight = 10000;
	if (hq_parse_request_entry("cpus", "2 scatter", &e, &eb) != 0 ||
	    hq_variant_add_entry(&d->req.v[1], &e, &eb) != 0)
		hq_fatalx("%s", eb.msg);
}

static void
gen_array_submit(struct hq_submit *s, uint32_t n, bool entries)
{
	uint32_t i;

	memset(s, 0, sizeof *s);
	s->ndescs = 1;
	s->descs = hq_xcalloc(1, sizeof *s->descs);
	gen_desc(&s->descs[0], true);
	hq_idset_add_range(&s->ids, 0, n, 1);
	s->submit_dir = hq_xstrdup("/home/u/sub");
	s->stream_dir = hq_xstrdup("streams-%{JOB_ID}");
	if (entries) {
		s->nentries = n;
		s->entries = hq_xcalloc(n, sizeof *s->entries);
		for (i = 0; i < n; i++)
			s->entries[i] = hq_xprintf("{\"i\": %u}", i);
	}
}

static void
gen_graph_submit(struct hq_submit *s)
{
	memset(s, 0, sizeof *s);
	s->graph = true;
	s->ndescs = 2;
	s->descs = hq_xcalloc(2, sizeof *s->descs);
	gen_desc(&s->descs[0], false);
	gen_desc(&s->descs[1], true);
	s->ntasks = 3;
	s->tasks = hq_xcalloc(3, sizeof *s->tasks);
	s->tasks[0].id = 1;
	s->tasks[1].id = 2;
	s->tasks[1].desc = 1;
	s->tasks[1].ndeps = 1;
	s->tasks[1].deps = hq_xcalloc(1, sizeof(uint32_t));
	s->tasks[1].deps[0] = 1;
	s->tasks[2].id = 7;
	s->tasks[2].ndeps = 2;
	s->tasks[2].deps = hq_xcalloc(2, sizeof(uint32_t));
	s->tasks[2].deps[0] = 1;
	s->tasks[2].deps[1] = 2;
	s->submit_dir = hq_xstrdup("/home/u/sub");
}

static const char *const alloc_wargs[] = { "--on-server-lost",
	"\"finish-running\"" };
static const char *const alloc_args[] = { "--partition=debug" };
static const char *const alloc_res[] = { "gpus=[0,1]" };

static void
gen_cmsgs(struct hq_buf *b)
{
	struct hq_cmsg m;
	struct hq_errbuf eb;

	memset(&m, 0, sizeof m);
	m.kind = HQ_CMSG_HELLO;
	m.protocol_version = HQ_PROTOCOL_VERSION;
	m.version = (char *)HQ_VERSION;
	hq_wire_encode_cmsg(&m, b);
	gen_buf("cmsg", "hello", b);

	memset(&m, 0, sizeof m);
	m.kind = HQ_CMSG_SUBMIT;
	m.name = (char *)"arr";
	m.has_max_fails = true;
	m.max_fails = 2;
	gen_array_submit(&m.submit, 4, true);
	hq_wire_encode_cmsg(&m, b);
	gen_buf("cmsg", "submit-array", b);
	hq_submit_fini(&m.submit);
	gen_array_submit(&m.submit, 3, false);
	hq_idset_fini(&m.submit.ids);
	hq_wire_encode_cmsg(&m, b);
	gen_buf("cmsg", "submit-noids", b);
	hq_submit_fini(&m.submit);
	gen_graph_submit(&m.submit);
	hq_wire_encode_cmsg(&m, b);
	gen_buf("cmsg", "submit-graph", b);
	m.job_id = 2; /* the open job of the fuzz state */
	hq_wire_encode_cmsg(&m, b);
	gen_buf("cmsg", "submit-open", b);
	hq_submit_fini(&m.submit);
	/* A multi-node task. */
	gen_array_submit(&m.submit, 1, false);
	hq_res_request_fini(&m.submit.descs[0].req);
	hq_res_request_default(&m.submit.descs[0].req);
	m.submit.descs[0].req.v[0].n_nodes = 2;
	free(m.submit.descs[0].req.v[0].e[0].name);
	m.submit.descs[0].req.v[0].n = 0;
	m.job_id = 0;
	hq_wire_encode_cmsg(&m, b);
	gen_buf("cmsg", "submit-multinode", b);
	hq_submit_fini(&m.submit);

	memset(&m, 0, sizeof m);
	m.kind = HQ_CMSG_QUERY;
	m.sub = HQ_Q_TASK_LIST;
	if (hq_parse_selector("1-3,7", HQ_SEL_ALLOW_LAST, &m.sel, &eb) != 0)
		hq_fatalx("%s", eb.msg);
	hq_idset_add_range(&m.tasks, 0, 5, 2);
	m.has_tasks = true;
	m.nstates = 1;
	m.states = hq_xcalloc(1, sizeof *m.states);
	m.states[0] = hq_xstrdup("running");
	hq_wire_encode_cmsg(&m, b);
	gen_buf("cmsg", "query", b);
	m.kind = HQ_CMSG_COMMAND;
	m.sub = HQ_C_JOB_CANCEL;
	m.reason = (char *)"because";
	hq_wire_encode_cmsg(&m, b);
	gen_buf("cmsg", "command", b);
	m.reason = NULL;
	hq_cmsg_fini(&m);
	memset(&m, 0, sizeof m);
	m.kind = HQ_CMSG_WAIT;
	m.sel.kind = HQ_SEL_ALL;
	m.progress = true;
	hq_wire_encode_cmsg(&m, b);
	gen_buf("cmsg", "wait", b);
	m.kind = HQ_CMSG_STREAM;
	m.live = true;
	hq_wire_encode_cmsg(&m, b);
	gen_buf("cmsg", "stream", b);
	m.kind = HQ_CMSG_JOB_OPEN;
	m.name = (char *)"open";
	hq_wire_encode_cmsg(&m, b);
	gen_buf("cmsg", "job-open", b);

	memset(&m, 0, sizeof m);
	m.kind = HQ_CMSG_ALLOC;
	m.sub = HQ_AREQ_ADD;
	m.aparams.manager = HQ_MANAGER_SLURM;
	m.aparams.backlog = 1;
	m.aparams.max_workers_per_alloc = 2;
	m.aparams.time_limit_ms = 3600000;
	m.aparams.idle_timeout_ms = 300000;
	m.aparams.name = (char *)"q";
	m.aparams.worker_args = (char **)alloc_wargs;
	m.aparams.nworker_args = 2;
	m.aparams.additional_args = (char **)alloc_args;
	m.aparams.nadditional_args = 1;
	m.aparams.cpus = (char *)"4";
	m.aparams.resources = (char **)alloc_res;
	m.aparams.nresources = 1;
	hq_wire_encode_cmsg(&m, b);
	gen_buf("cmsg", "alloc-add", b);
	memset(&m, 0, sizeof m);
	m.kind = HQ_CMSG_ALLOC;
	m.sub = HQ_AREQ_REMOVE;
	m.queue_id = 3;
	m.force = true;
	hq_wire_encode_cmsg(&m, b);
	gen_buf("cmsg", "alloc-remove", b);
	memset(&m, 0, sizeof m);
	m.kind = HQ_CMSG_DEBUG_DUMP;
	hq_wire_encode_cmsg(&m, b);
	gen_buf("cmsg", "debug-dump", b);
}

static void
gen_smsgs(struct hq_buf *b)
{
	struct hq_smsg m;

	memset(&m, 0, sizeof m);
	m.kind = HQ_SMSG_HELLO;
	m.protocol_version = HQ_PROTOCOL_VERSION;
	m.version = (char *)HQ_VERSION;
	m.server_uid = (char *)"abc123";
	hq_wire_encode_smsg(&m, b);
	gen_buf("smsg", "hello", b);
	memset(&m, 0, sizeof m);
	m.kind = HQ_SMSG_COMMAND;
	hq_smsg_add_line(&m, HQ_LINE_INFO, "Job %u canceled", 1);
	hq_smsg_add_line(&m, HQ_LINE_ERROR, "Job %u not found", 9);
	hq_wire_encode_smsg(&m, b);
	gen_buf("smsg", "command", b);
	hq_smsg_fini(&m);
	memset(&m, 0, sizeof m);
	m.kind = HQ_SMSG_JSON;
	m.json = (char *)"[{\"id\":1}]";
	hq_wire_encode_smsg(&m, b);
	gen_buf("smsg", "json", b);
	memset(&m, 0, sizeof m);
	m.kind = HQ_SMSG_PROGRESS;
	m.progress.jobs_total = 2;
	m.progress.tasks_total = 10;
	m.progress.running = 3;
	hq_wire_encode_smsg(&m, b);
	gen_buf("smsg", "progress", b);
	memset(&m, 0, sizeof m);
	m.kind = HQ_SMSG_NOTIFICATION;
	m.n_job = 1;
	m.n_task = 2;
	m.n_worker = 3;
	m.n_msg = (uint8_t *)"hi";
	m.n_msg_len = 2;
	hq_wire_encode_smsg(&m, b);
	gen_buf("smsg", "notification", b);
	memset(&m, 0, sizeof m);
	m.kind = HQ_SMSG_ERROR;
	m.message = (char *)"Job 3 not found.";
	hq_wire_encode_smsg(&m, b);
	gen_buf("smsg", "error", b);
	m.kind = HQ_SMSG_SUBMIT;
	m.message = NULL;
	m.job_id = 4;
	hq_wire_encode_smsg(&m, b);
	gen_buf("smsg", "submit", b);
}

static void
gen_wconfig(struct hq_worker_config *c)
{
	struct hq_res_pool *pools = hq_xcalloc(3, sizeof *pools);
	struct hq_errbuf eb;

	memset(c, 0, sizeof *c);
	if (hq_parse_pool_def("cpus", "2x2", true, &pools[0], &eb) != 0 ||
	    hq_parse_pool_def("gpus", "[[a, b], [c, d]]", false, &pools[1],
		&eb) != 0 ||
	    hq_parse_pool_def("mem", "sum(1024)", false, &pools[2], &eb) != 0 ||
	    hq_worker_res_from_pools(pools, 3, &c->res, &eb) != 0 ||
	    hq_parse_coupling("cpus[0]:gpus[0]", &c->res, &eb) != 0)
		hq_fatalx("%s", eb.msg);
	c->hostname = hq_xstrdup("node1");
	c->group = hq_xstrdup("g");
	c->heartbeat_ms = 8000;
	c->on_server_lost = hq_xstrdup("reconnect");
	c->work_dir = hq_xstrdup("/tmp/w");
	c->manager = hq_xstrdup("SLURM");
	c->allocation_id = hq_xstrdup("42");
	c->listen_address = hq_xstrdup("node1:1");
	c->config_json = hq_xstrdup("{}");
	c->min_utilization = 5000;
	c->time_limit_ms = 3600000;
}

static void
gen_wmsgs(struct hq_buf *b)
{
	struct hq_wmsg m;

	memset(&m, 0, sizeof m);
	m.kind = HQ_WMSG_HELLO;
	m.protocol_version = HQ_PROTOCOL_VERSION;
	m.version = hq_xstrdup(HQ_VERSION);
	m.server_uid = hq_xstrdup("fuzzuid");
	gen_wconfig(&m.cfg);
	hq_wire_encode_wmsg(&m, b);
	gen_buf("wmsg", "hello", b);
	m.worker_id = 1;
	m.nheld = 2;
	m.held = hq_xcalloc(2, sizeof *m.held);
	m.held[0].job = 1;
	m.held[0].task = 1;
	m.held[0].instance = 1;
	m.held[1].job = 1;
	m.held[1].status = HQ_HELD_FAILED;
	m.held[1].error = hq_xstrdup("exit 1");
	hq_wire_encode_wmsg(&m, b);
	gen_buf("wmsg", "hello-reconnect", b);
	hq_wmsg_fini(&m);
	memset(&m, 0, sizeof m);
	m.kind = HQ_WMSG_FINISHED;
	hq_taskrefs_push(&m.refs, 1, 0, 1);
	hq_taskrefs_push(&m.refs, 1, 1, 1);
	m.report_seq = 7;
	hq_wire_encode_wmsg(&m, b);
	gen_buf("wmsg", "finished", b);
	m.kind = HQ_WMSG_STARTED;
	m.nvariant = 2;
	m.variant = hq_xcalloc(2, sizeof *m.variant);
	m.variant[1] = 1;
	hq_wire_encode_wmsg(&m, b);
	gen_buf("wmsg", "started", b);
	hq_wmsg_fini(&m);
	memset(&m, 0, sizeof m);
	m.kind = HQ_WMSG_FAILED;
	m.job = 1;
	m.task = 1;
	m.instance = 1;
	m.error = hq_xstrdup("Program terminated with exit code 1");
	hq_wire_encode_wmsg(&m, b);
	gen_buf("wmsg", "failed", b);
	hq_wmsg_fini(&m);
	memset(&m, 0, sizeof m);
	m.kind = HQ_WMSG_NOTIFY;
	m.message = (uint8_t *)hq_xstrdup("note");
	m.message_len = 4;
	hq_wire_encode_wmsg(&m, b);
	gen_buf("wmsg", "notify", b);
	hq_wmsg_fini(&m);
	memset(&m, 0, sizeof m);
	m.kind = HQ_WMSG_STOPPING;
	m.reason = HQ_LOST_IDLE_TIMEOUT;
	hq_wire_encode_wmsg(&m, b);
	gen_buf("wmsg", "stopping", b);
	m.kind = HQ_WMSG_HEARTBEAT;
	hq_wire_encode_wmsg(&m, b);
	gen_buf("wmsg", "heartbeat", b);
}

static void
gen_vmsgs(struct hq_buf *b)
{
	struct hq_vmsg m;
	struct hq_submit s;

	memset(&m, 0, sizeof m);
	m.kind = HQ_VMSG_WELCOME;
	m.protocol_version = HQ_PROTOCOL_VERSION;
	m.version = hq_xstrdup(HQ_VERSION);
	m.server_uid = hq_xstrdup("fuzzuid");
	m.worker_id = 3;
	m.nheld = 1;
	m.held = hq_xcalloc(1, sizeof *m.held);
	m.held[0].job = 1;
	hq_wire_encode_vmsg(&m, b);
	gen_buf("vmsg", "welcome", b);
	hq_vmsg_fini(&m);
	memset(&m, 0, sizeof m);
	m.kind = HQ_VMSG_SPEC;
	m.job = 1;
	gen_array_submit(&s, 1, false);
	m.task = s.descs[0];
	memset(&s.descs[0], 0, sizeof s.descs[0]);
	hq_submit_fini(&s);
	m.submit_dir = hq_xstrdup("/home/u/sub");
	m.stream_dir = hq_xstrdup("/home/u/sub/streams");
	hq_wire_encode_vmsg(&m, b);
	gen_buf("vmsg", "spec", b);
	hq_vmsg_fini(&m);
	memset(&m, 0, sizeof m);
	m.kind = HQ_VMSG_ASSIGN;
	hq_taskrefs_push(&m.refs, 1, 0, 1);
	hq_taskrefs_push(&m.refs, 1, 5, 2);
	m.descs = hq_xcalloc(2, sizeof *m.descs);
	m.variants = hq_xcalloc(2, sizeof *m.variants);
	m.variants[1] = 1;
	m.entries = hq_xcalloc(2, sizeof *m.entries);
	m.entries[0] = hq_xstrdup("{\"a\": 1}");
	hq_wire_encode_vmsg(&m, b);
	gen_buf("vmsg", "assign", b);
	hq_vmsg_fini(&m);
	memset(&m, 0, sizeof m);
	m.kind = HQ_VMSG_ASSIGN;
	hq_taskrefs_push(&m.refs, 2, 0, 1);
	m.descs = hq_xcalloc(1, sizeof *m.descs);
	m.nhosts = 2;
	m.hosts = hq_xcalloc(2, sizeof *m.hosts);
	m.hosts[0] = hq_xstrdup("node1");
	m.hosts[1] = hq_xstrdup("node2");
	hq_wire_encode_vmsg(&m, b);
	gen_buf("vmsg", "assign-multinode", b);
	hq_vmsg_fini(&m);
	memset(&m, 0, sizeof m);
	m.kind = HQ_VMSG_CANCEL;
	hq_taskrefs_push(&m.refs, 1, 3, 1);
	hq_wire_encode_vmsg(&m, b);
	gen_buf("vmsg", "cancel", b);
	hq_vmsg_fini(&m);
	memset(&m, 0, sizeof m);
	m.kind = HQ_VMSG_ACK;
	m.upto = 99;
	hq_wire_encode_vmsg(&m, b);
	gen_buf("vmsg", "ack", b);
	m.kind = HQ_VMSG_ERROR;
	m.message = (char *)"version mismatch";
	hq_wire_encode_vmsg(&m, b);
	gen_buf("vmsg", "error", b);
	m.kind = HQ_VMSG_STOP;
	m.message = NULL;
	hq_wire_encode_vmsg(&m, b);
	gen_buf("vmsg", "stop", b);
}

/* One replay record: type byte, 16-bit length, bytes. */
static void
gen_record(struct hq_buf *out, uint8_t type, const struct hq_buf *rec)
{
	uint8_t h[3] = { type, (uint8_t)(rec->len >> 8), (uint8_t)rec->len };

	HQ_ASSERT(rec->len <= UINT16_MAX);
	hq_buf_append(out, h, 3);
	hq_buf_append(out, rec->data, rec->len);
}

static void
gen_event(struct hq_buf *out, const struct hq_event *ev)
{
	struct hq_buf e;

	hq_buf_init(&e);
	hq_wire_encode_event(ev, &e);
	gen_record(out, 0, &e);
	hq_buf_fini(&e);
}

static void
gen_events(struct hq_buf *b)
{
	struct hq_state *st = fuzz_state_prefix();
	struct hq_event ev;
	struct hq_buf all, snap;
	uint32_t tasks[3] = { 0, 1, 2 }, nodes[2] = { 1, 2 }, ids[2] = { 1, 3 };

	hq_buf_init(&all);
	hq_buf_init(&snap);
	hq_state_snapshot(st, &snap);
	gen_write("snapshot", "prefix", snap.data, snap.len);

	memset(&ev, 0, sizeof ev);
	ev.kind = HQ_EV_TASK_RUN;
	ev.time_ms = 5000;
	ev.u.run.job = 1;
	ev.u.run.worker = 1;
	ev.u.run.n = ev.u.run.cap = 1;
	ev.u.run.tasks = &tasks[1];
	ev.u.run.kind = HQ_RUN_FINISHED;
	gen_event(&all, &ev);
	ev.u.run.kind = HQ_RUN_STARTED;
	ev.u.run.tasks = &tasks[0];
	gen_event(&all, &ev);
	ev.u.run.kind = HQ_RUN_REQUEUED;
	gen_event(&all, &ev);
	ev.u.run.kind = HQ_RUN_ASSIGNED;
	ev.u.run.n = ev.u.run.cap = 3;
	ev.u.run.tasks = tasks;
	ev.u.run.worker = 2;
	gen_event(&all, &ev);
	gen_buf("replay", "run", &all);

	memset(&ev, 0, sizeof ev);
	ev.kind = HQ_EV_TASK_FAILED;
	ev.time_ms = 6000;
	ev.u.failed.job = 1;
	ev.u.failed.task = 1;
	ev.u.failed.error = (char *)"Program terminated with exit code 1";
	gen_event(&all, &ev);
	memset(&ev, 0, sizeof ev);
	ev.kind = HQ_EV_WORKER_LOST;
	ev.time_ms = 6100;
	ev.u.wlost.worker_id = 1;
	ev.u.wlost.reason = HQ_LOST_CONNECTION;
	gen_event(&all, &ev);
	memset(&ev, 0, sizeof ev);
	ev.kind = HQ_EV_JOBS_CANCELED;
	ev.time_ms = 6200;
	ev.u.jobs.n = 2;
	ev.u.jobs.ids = ids;
	ev.u.jobs.reason = (char *)"stop";
	gen_event(&all, &ev);
	ev.kind = HQ_EV_JOBS_FORGOTTEN;
	ev.u.jobs.reason = NULL;
	gen_event(&all, &ev);
	ev.kind = HQ_EV_JOBS_CLOSED;
	ev.u.jobs.n = 1;
	ev.u.jobs.ids = &ids[0] + 0;
	ids[0] = 2;
	gen_event(&all, &ev);
	gen_buf("replay", "lifecycle", &all);

	memset(&ev, 0, sizeof ev);
	ev.kind = HQ_EV_JOB_SUBMITTED;
	ev.time_ms = 7000;
	ev.u.submitted.job_id = 3;
	ev.u.submitted.new_job = true;
	ev.u.submitted.name = (char *)"g";
	gen_graph_submit(&ev.u.submitted.submit);
	gen_event(&all, &ev);
	hq_submit_fini(&ev.u.submitted.submit);
	ev.u.submitted.job_id = 2;
	ev.u.submitted.new_job = false;
	gen_array_submit(&ev.u.submitted.submit, 3, true);
	hq_idset_fini(&ev.u.submitted.submit.ids);
	hq_idset_add_range(&ev.u.submitted.submit.ids, 10, 3, 5);
	gen_event(&all, &ev);
	hq_submit_fini(&ev.u.submitted.submit);
	memset(&ev, 0, sizeof ev);
	ev.kind = HQ_EV_TASK_RUN;
	ev.time_ms = 7100;
	ev.u.run.kind = HQ_RUN_ASSIGNED;
	ev.u.run.job = 3;
	ev.u.run.worker = 1;
	ev.u.run.n = ev.u.run.cap = 1;
	ev.u.run.tasks = ids; /* task 2 after the edit above: none yet */
	ids[0] = 1;
	ev.u.run.nnodes = 2;
	ev.u.run.nodes = nodes;
	gen_event(&all, &ev);
	memset(&ev, 0, sizeof ev);
	ev.kind = HQ_EV_JOB_OPENED;
	ev.time_ms = 7200;
	ev.u.opened.job_id = 4;
	ev.u.opened.name = (char *)"o";
	gen_event(&all, &ev);
	memset(&ev, 0, sizeof ev);
	ev.kind = HQ_EV_WORKER_CONNECTED;
	ev.time_ms = 7300;
	ev.u.wconn.worker_id = 3;
	gen_wconfig(&ev.u.wconn.cfg);
	gen_event(&all, &ev);
	hq_worker_config_fini(&ev.u.wconn.cfg);
	memset(&ev, 0, sizeof ev);
	ev.kind = HQ_EV_SERVER_STOPPED;
	ev.time_ms = 7400;
	gen_event(&all, &ev);
	ev.kind = HQ_EV_SERVER_STARTED;
	ev.u.started.server_uid = (char *)"again1";
	ev.u.started.host = (char *)"h";
	gen_event(&all, &ev);
	gen_buf("replay", "submits", &all);

	/* Regression: a job id near 2^32 made the job table's growth loop
	 * overflow and spin forever; ids are now bounded (state.h). */
	memset(&ev, 0, sizeof ev);
	ev.kind = HQ_EV_JOB_OPENED;
	ev.time_ms = 7500;
	ev.u.opened.job_id = 0x80000001u;
	ev.u.opened.name = (char *)"huge";
	gen_event(&all, &ev);
	ev.kind = HQ_EV_WORKER_CONNECTED;
	ev.u.wconn.worker_id = 0xfffffff0u;
	gen_event(&all, &ev);
	gen_buf("replay", "bad-huge-ids", &all);

	/* A checkpoint of the prefix, then events on top of it. */
	gen_record(&all, 0x80, &snap);
	memset(&ev, 0, sizeof ev);
	ev.kind = HQ_EV_TASK_RUN;
	ev.time_ms = 8000;
	ev.u.run.kind = HQ_RUN_FINISHED;
	ev.u.run.job = 1;
	ev.u.run.worker = 1;
	ev.u.run.n = ev.u.run.cap = 2;
	ev.u.run.tasks = tasks;
	gen_event(&all, &ev);
	gen_buf("replay", "checkpoint", &all);

	/* Snapshots of richer states. */
	hq_buf_reset(&snap);
	{
		struct hq_event sub;

		memset(&sub, 0, sizeof sub);
		sub.kind = HQ_EV_JOB_SUBMITTED;
		sub.time_ms = 7000;
		sub.u.submitted.job_id = 3;
		sub.u.submitted.new_job = true;
		sub.u.submitted.name = (char *)"g";
		gen_graph_submit(&sub.u.submitted.submit);
		fuzz_apply_ok(st, &sub);
		hq_submit_fini(&sub.u.submitted.submit);
	}
	hq_state_snapshot(st, &snap);
	gen_write("snapshot", "graph", snap.data, snap.len);
	hq_buf_reset(b);
	hq_buf_fini(&snap);
	hq_buf_fini(&all);
	hq_state_destroy(st);
}

static void
gen_frames(void)
{
	/* max_frame/8, pause-in-callback, then ops (see fuzz_frame.c). */
	static const uint8_t two[] = { 4, 1, 11, 0, 0, 0, 2, 'h', 'i', 0, 0, 0,
		0, 0xf2, 3, 0, 0, 0, 1, 0xf0, 0xf2, 0xf1, 0, 'x' };
	static const uint8_t big[] = { 1, 0, 7, 0, 0, 0, 9, 1, 2, 3, 4 };
	static const uint8_t half[] = { 4, 0, 5, 0, 0, 0, 9, 'a', 'b' };

	gen_write("frame", "two", two, sizeof two);
	gen_write("frame", "oversized", big, sizeof big);
	gen_write("frame", "truncated", half, sizeof half);
}

static void
gen_access(void)
{
	struct hq_access a;
	char *t;

	if (hq_access_generate(&a, "login1", 6789, "login1", 1234) != 0)
		hq_fatalx("generate");
	free(a.server_uid);
	a.server_uid = hq_xstrdup("abc123");
	memset(a.client.key, 0x11, sizeof a.client.key);
	memset(a.worker.key, 0x22, sizeof a.worker.key);
	t = hq_access_to_json(&a, HQ_ACCESS_ALL);
	gen_str("access", "full", t);
	free(t);
	t = hq_access_to_json(&a, HQ_ACCESS_WORKER);
	gen_str("access", "worker", t);
	free(t);
	a.client.has_key = false;
	t = hq_access_to_json(&a, HQ_ACCESS_CLIENT);
	gen_str("access", "nokey", t);
	free(t);
	hq_access_fini(&a);
}

static void
gen_texts(void)
{
	/* First byte: the parser (see fuzz_parse.c / fuzz_resource.c). */
	static const char *const parse[] = { "\x00last",
		"\x00"
		"1-10:2,15",
		"\x01"
		"7",
		"\x02"
		"1, 3-5, 10-1000_000:7",
		"\x03"
		"4294967295",
		"\x04"
		"65535",
		"\x05"
		"-2147483648",
		"\x06"
		"18446744073709551615",
		"\x07"
		"-2.5e3",
		"\x08"
		"01:02:03",
		"\x09"
		"2h 5min 3s 500ms",
		"\x0a"
		"1.2345",
		"\x0b"
		"KEY=a=b",
		"\x0c"
		"out-%{TASK_ID}:rm-if-finished",
		"\x0d"
		"never-restart",
		"\x0e"
		"--cpus=\"2 compact\" x\\ y",
		"\x0f"
		"sh -c 'echo \"$x\"' \\\n z",
		NULL };
	static const char *const res[] = { "\x00[a, \"b c\", \\\"d]",
		"\x00[[0,1],[2,3]]",
		"\x00"
		"range(0-7)",
		"\x00"
		"2x4",
		"\x00sum(1.5)",
		"\x01"
		"8",
		"\x01[0, 2, 4]", "\x02 gpus/nvidia = [0,1]",
		"\x03"
		"2.5 tight!",
		"\x03"
		"all",
		"\x04"
		"cpus[0]:gpus[1]=100,cpus[1]:gpus[0]",
		NULL };
	static const char *const entries[] = { "[1, \"two\", {\"a\": [3.5]}]",
		"[]", "{\"a\": 1}", "[1e400, -0.0, null, true]", NULL };
	char name[16];
	int i;

	for (i = 0; parse[i] != NULL; i++) {
		snprintf(name, sizeof name, "p%02d", i);
		/* "\x00..." strings: write the leading NUL as well. */
		gen_write("parse", name, parse[i],
		    parse[i][0] ? strlen(parse[i]) : 1 + strlen(parse[i] + 1));
	}
	for (i = 0; res[i] != NULL; i++) {
		snprintf(name, sizeof name, "r%02d", i);
		gen_write("resource", name, res[i],
		    res[i][0] ? strlen(res[i]) : 1 + strlen(res[i] + 1));
	}
	for (i = 0; entries[i] != NULL; i++) {
		snprintf(name, sizeof name, "e%02d", i);
		gen_str("entries", name, entries[i]);
	}
}

int
main(int argc, char **argv)
{
	struct hq_buf b;

	if (argc != 2) {
		fprintf(stderr, "usage: gen_corpus DIR\n");
		return 2;
	}
	gen_dir = argv[1];
	hq_buf_init(&b);
	gen_cmsgs(&b);
	gen_smsgs(&b);
	gen_wmsgs(&b);
	gen_vmsgs(&b);
	gen_events(&b);
	gen_frames();
	gen_access();
	gen_texts();
	hq_buf_fini(&b);
	return 0;
}
