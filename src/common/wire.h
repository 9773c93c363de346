/* SPDX-License-Identifier: MIT */
/*
 * The wire layer: plain C messages <-> protobuf (proto/hq.proto). The only
 * module that includes the generated hq.pb-c.h. Encoders append to an
 * hq_buf; decoders validate (enums, required parts, embedded NULs) and
 * return HQ_EPROTO with a message for anything malformed. Decoded messages
 * own their memory: release them with the matching _fini.
 */
#ifndef HQ_WIRE_H
#define HQ_WIRE_H

#include "common/alloc_params.h"
#include "common/buf.h"
#include "common/event.h"
#include "common/model.h"
#include "common/parse.h"
#include "common/util.h"

/* Frame size limits (bytes of one message). */
#define HQ_MAX_FRAME_CLIENT_IN (256u << 20) /* requests to the server */
#define HQ_MAX_FRAME_CLIENT_OUT \
	(1024u << 20) /* replies (job info of 1M tasks) */
#define HQ_MAX_FRAME_WORKER (64u << 20)

/* Task instance references as parallel arrays (hot path: packed). */
struct hq_taskrefs {
	uint32_t n, cap;
	uint32_t *job, *task, *instance;
};

void hq_taskrefs_push(struct hq_taskrefs *r, uint32_t job, uint32_t task,
    uint32_t instance);
void hq_taskrefs_clear(struct hq_taskrefs *r);
void hq_taskrefs_fini(struct hq_taskrefs *r);

/* ---- client -> server ---------------------------------------------- */

enum hq_cmsg_kind {
	HQ_CMSG_HELLO = 1,
	HQ_CMSG_SUBMIT,
	HQ_CMSG_JOB_OPEN,
	HQ_CMSG_QUERY,
	HQ_CMSG_COMMAND,
	HQ_CMSG_WAIT,
	HQ_CMSG_STREAM,
	HQ_CMSG_ALLOC, /* sub: enum hq_alloc_req_kind */
	/* `server debug-dump`: no fields; the reply is HQ_SMSG_JSON */
	HQ_CMSG_DEBUG_DUMP,
};

/* `hq alloc` requests that change something (proto AllocRequest.Kind). */
enum hq_alloc_req_kind {
	HQ_AREQ_ADD = 0,
	HQ_AREQ_DRY_RUN,
	HQ_AREQ_PAUSE,
	HQ_AREQ_RESUME,
	HQ_AREQ_REMOVE,
	HQ_AREQ__COUNT,
};

enum hq_query_kind {
	HQ_Q_SERVER_INFO = 0,
	HQ_Q_JOB_LIST,
	HQ_Q_JOB_INFO,
	HQ_Q_TASK_LIST,
	HQ_Q_TASK_INFO,
	HQ_Q_WORKER_LIST,
	HQ_Q_WORKER_INFO,
	HQ_Q_JOB_SUMMARY,
	HQ_Q_TASK_IDS,
	HQ_Q_TASK_EXPLAIN,
	HQ_Q_JOB_OUTPUTS,
	HQ_Q_ALLOC_LIST,
	HQ_Q_ALLOC_INFO,
	HQ_Q_WORKER_ADDRESS,
	HQ_Q__COUNT,
};

enum hq_command_kind {
	HQ_C_SERVER_STOP = 0,
	HQ_C_JOB_CANCEL,
	HQ_C_JOB_FORGET,
	HQ_C_JOB_CLOSE,
	HQ_C_WORKER_STOP,
	HQ_C_JOURNAL_FLUSH,
	HQ_C_JOURNAL_PRUNE,
	HQ_C__COUNT,
};

/* One flat struct for every client message; fields unused by a kind stay 0. */
struct hq_cmsg {
	enum hq_cmsg_kind kind;
	/* hello */
	uint32_t protocol_version;
	char *version;
	/* submit, job open */
	uint32_t job_id;
	char *name;
	bool has_max_fails;
	uint32_t max_fails;
	struct hq_submit submit;
	/* query, command, wait */
	int sub; /* enum hq_query_kind or hq_command_kind */
	struct hq_selector sel;
	struct hq_idset tasks;
	bool has_tasks;
	uint32_t nstates;
	char **states;
	bool all;
	char *reason;
	bool without_close;
	bool progress;
	bool notify; /* wait: send notifications; submit: also wait for them */
	/* stream */
	bool live;
	/* alloc */
	uint32_t queue_id;
	bool force;
	bool no_dry_run;
	struct hq_alloc_params aparams;
};

void hq_cmsg_fini(struct hq_cmsg *m);
int hq_wire_encode_cmsg(const struct hq_cmsg *m, struct hq_buf *out);
int hq_wire_decode_cmsg(const uint8_t *p, size_t len, struct hq_cmsg *m,
    struct hq_errbuf *eb);

/* ---- server -> client ---------------------------------------------- */

enum hq_smsg_kind {
	HQ_SMSG_HELLO = 1,
	HQ_SMSG_ERROR,
	HQ_SMSG_SUBMIT,
	HQ_SMSG_JSON,
	HQ_SMSG_COMMAND,
	HQ_SMSG_PROGRESS,
	HQ_SMSG_NOTIFICATION,
};

enum hq_logline_level {
	HQ_LINE_INFO = 0,
	HQ_LINE_WARN,
	HQ_LINE_ERROR,
};

struct hq_logline {
	enum hq_logline_level level;
	char *text;
};

struct hq_wait_progress {
	uint32_t jobs_total, jobs_done;
	uint64_t tasks_total, waiting, running, finished, failed, canceled,
	    aborted;
	bool done;
};

struct hq_smsg {
	enum hq_smsg_kind kind;
	uint32_t protocol_version;
	char *version;
	char *server_uid;
	char *message; /* error */
	uint32_t job_id;
	char *json;
	uint32_t nlines;
	struct hq_logline *lines;
	struct hq_wait_progress progress;
	/* notification */
	uint32_t n_job, n_task, n_worker;
	uint8_t *n_msg;
	size_t n_msg_len;
};

void hq_smsg_fini(struct hq_smsg *m);
void hq_smsg_add_line(struct hq_smsg *m, enum hq_logline_level level,
    const char *fmt, ...) HQ_PRINTF(3, 4);
int hq_wire_encode_smsg(const struct hq_smsg *m, struct hq_buf *out);
int hq_wire_decode_smsg(const uint8_t *p, size_t len, struct hq_smsg *m,
    struct hq_errbuf *eb);

/* ---- worker -> server ---------------------------------------------- */

enum hq_wmsg_kind {
	HQ_WMSG_HELLO = 1,
	HQ_WMSG_HEARTBEAT,
	HQ_WMSG_STARTED,
	HQ_WMSG_FINISHED,
	HQ_WMSG_FAILED,
	HQ_WMSG_STOPPING,
	HQ_WMSG_NOTIFY,
};

enum hq_held_status {
	HQ_HELD_RUNNING = 0,
	HQ_HELD_FINISHED,
	HQ_HELD_FAILED,
	HQ_HELD_QUEUED,
};

struct hq_held_task {
	uint32_t job, task, instance;
	enum hq_held_status status;
	char *error;
	uint64_t started_ms;
};

struct hq_wmsg {
	enum hq_wmsg_kind kind;
	/* hello */
	uint32_t protocol_version;
	char *version;
	uint32_t worker_id;
	char *server_uid;
	struct hq_worker_config cfg;
	uint32_t nheld;
	struct hq_held_task *held;
	/* started, finished */
	struct hq_taskrefs refs;
	uint32_t nvariant;
	uint32_t *variant;
	uint64_t report_seq;
	/* failed, notify */
	uint32_t job, task, instance;
	char *error;
	uint32_t reason; /* stopping: enum hq_worker_lost_reason */
	uint8_t *message;
	size_t message_len;
};

void hq_wmsg_fini(struct hq_wmsg *m);
int hq_wire_encode_wmsg(const struct hq_wmsg *m, struct hq_buf *out);
int hq_wire_decode_wmsg(const uint8_t *p, size_t len, struct hq_wmsg *m,
    struct hq_errbuf *eb);

/* ---- server -> worker ---------------------------------------------- */

enum hq_vmsg_kind {
	HQ_VMSG_WELCOME = 1,
	HQ_VMSG_SPEC,
	HQ_VMSG_ASSIGN,
	HQ_VMSG_CANCEL,
	HQ_VMSG_ACK,
	HQ_VMSG_STOP,
	HQ_VMSG_ERROR,
};

struct hq_vmsg {
	enum hq_vmsg_kind kind;
	/* welcome */
	uint32_t protocol_version;
	char *version;
	uint32_t worker_id;
	char *server_uid;
	uint32_t nheld;
	struct hq_held_task *held; /* instances to drop */
	/* spec */
	uint32_t job, desc;
	struct hq_task_desc task;
	char *submit_dir;
	char *stream_dir;
	/* assign, cancel */
	struct hq_taskrefs refs;
	uint32_t *descs;    /* per task (assign) */
	uint32_t *variants; /* per task (assign); NULL: all 0 */
	char *
	    *entries; /* per task, NULL when it has none; NULL array if none */
	/* assign of one multi-node task: hostnames of its nodes, root first */
	uint32_t nhosts;
	char **hosts;
	bool secondary; /* assign: only reserve this worker for the task */
	/* ack */
	uint64_t upto;
	char *message; /* error */
};

void hq_vmsg_fini(struct hq_vmsg *m);
int hq_wire_encode_vmsg(const struct hq_vmsg *m, struct hq_buf *out);
int hq_wire_decode_vmsg(const uint8_t *p, size_t len, struct hq_vmsg *m,
    struct hq_errbuf *eb);

/* ---- journal events -------------------------------------------------- */

int hq_wire_encode_event(const struct hq_event *ev, struct hq_buf *out);
int hq_wire_decode_event(const uint8_t *p, size_t len, struct hq_event *ev,
    struct hq_errbuf *eb);

/* ---- standalone model encodings (snapshots, tests) -------------------- */

int hq_wire_encode_submit(const struct hq_submit *s, struct hq_buf *out);
int hq_wire_decode_submit(const uint8_t *p, size_t len, struct hq_submit *s,
    struct hq_errbuf *eb);
int hq_wire_encode_wconfig(const struct hq_worker_config *c,
    struct hq_buf *out);
int hq_wire_decode_wconfig(const uint8_t *p, size_t len,
    struct hq_worker_config *c, struct hq_errbuf *eb);
int hq_wire_encode_alloc_params(const struct hq_alloc_params *p,
    struct hq_buf *out);
int hq_wire_decode_alloc_params(const uint8_t *p, size_t len,
    struct hq_alloc_params *out, struct hq_errbuf *eb);
int hq_wire_encode_worker_res(const struct hq_worker_res *r,
    struct hq_buf *out);
int hq_wire_decode_worker_res(const uint8_t *p, size_t len,
    struct hq_worker_res *out, struct hq_errbuf *eb);

#endif
