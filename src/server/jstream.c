/* SPDX-License-Identifier: MIT */
/*
 * `hq journal stream` / `hq journal replay`: the journal's history as
 * NDJSON, read with LMDB read transactions in pieces (the writer never
 * pauses), then live events as they are journalled. A stream switches to
 * live events only once it has caught up with everything durable and
 * nothing is pending, so no event is missed or sent twice.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/evjson.h"
#include "common/log.h"
#include "server/server.h"

#define PUMP_RECORDS 4096
/* History goes out only as fast as the client reads it. */
#define PUMP_MAX_QUEUED ((size_t)4 << 20)

struct pump {
	FILE *f;
	uint64_t last;
};

static int
pump_cb(uint64_t seq, const void *rec, size_t len, void *arg)
{
	struct pump *p = arg;
	struct hq_event ev;

	if (hq_wire_decode_event(rec, len, &ev, NULL) == 0) {
		hq_events_to_ndjson(&ev, seq, NULL, p->f);
		hq_event_fini(&ev);
	}
	p->last = seq;
	return 0;
}

static void
send_text(struct server *s, struct client *cl, char *text)
{
	struct hq_smsg r;

	memset(&r, 0, sizeof r);
	r.kind = HQ_SMSG_JSON;
	r.json = text;
	server_send_smsg(s, cl->conn, &r);
}

static void
stream_done(struct server *s, struct client *cl)
{
	struct hq_smsg r;

	memset(&r, 0, sizeof r);
	r.kind = HQ_SMSG_COMMAND;
	server_send_smsg(s, cl->conn, &r);
	cl->streaming = false;
	(void)s;
}

void
jstream_start(struct server *s, struct client *cl, bool live)
{
	struct hq_journal_stat st;
	struct hq_errbuf eb;

	if (cl->streaming) {
		server_send_error(s, cl->conn, "a stream is already running");
		return;
	}
	cl->streaming = true;
	cl->stream_live = live;
	cl->in_live = false;
	if (s->journal == NULL) {
		/* No history without a journal: only live events. */
		if (!live) {
			stream_done(s, cl);
			return;
		}
		cl->in_live = true;
		s->nlive++;
		return;
	}
	/* Make what is pending readable, so the history is complete. */
	if (server_sync_commit(s, &eb) != 0)
		hq_warn("journal stream: %s", eb.msg);
	hq_journal_stat(s->journal, &st);
	cl->hist_next = st.first_seq ? st.first_seq : 1;
}

void
jstream_pump(struct server *s)
{
	struct client *cl;

	for (cl = s->clients; cl != NULL; cl = cl->next) {
		uint64_t durable = s->durable_seq;
		struct pump p;
		char *buf = NULL;
		size_t len = 0;

		if (!cl->streaming || cl->in_live || s->journal == NULL ||
		    hq_conn_queued_bytes(cl->conn) > PUMP_MAX_QUEUED)
			continue;
		if (cl->hist_next <= durable) {
			uint64_t to =
			    HQ_MIN(durable, cl->hist_next + PUMP_RECORDS - 1);

			p.f = open_memstream(&buf, &len);
			p.last = 0;
			hq_journal_foreach(s->journal, cl->hist_next, to,
			    pump_cb, &p);
			fclose(p.f);
			cl->hist_next = to + 1;
			if (len > 0)
				send_text(s, cl, buf);
			free(buf);
			continue;
		}
		/* Caught up with everything durable. */
		if (!cl->stream_live) {
			stream_done(s, cl);
			continue;
		}
		if (s->last_seq == durable && !s->run_open) {
			cl->in_live = true;
			s->nlive++;
		}
	}
}

void
jstream_event(struct server *s, const struct hq_event *ev, uint64_t seq)
{
	struct client *cl;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	if (s->nlive == 0)
		return;
	f = open_memstream(&buf, &len);
	/* The event is applied already: the state knows its instances. */
	hq_events_to_ndjson(ev, seq, s->st, f);
	fclose(f);
	for (cl = s->clients; cl != NULL && len > 0; cl = cl->next)
		if (cl->streaming && cl->in_live)
			send_text(s, cl, buf);
	free(buf);
}
