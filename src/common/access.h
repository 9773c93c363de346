/* SPDX-License-Identifier: MIT */
/*
 * The server directory and its access record (spec 2.11): numbered
 * instance dirs, the hq-current symlink, and access.json with hosts, ports
 * and keys for clients and workers.
 */
#ifndef HQ_ACCESS_H
#define HQ_ACCESS_H

#include <stdbool.h>
#include <stdint.h>

#include "common/util.h"

#define HQ_KEY_BYTES	 32
#define HQ_ACCESS_CLIENT 1
#define HQ_ACCESS_WORKER 2
#define HQ_ACCESS_ALL	 3

struct hq_access_part {
	char *host;
	uint16_t port;
	bool has_key; /* false: authentication and encryption disabled */
	uint8_t key[HQ_KEY_BYTES];
};

struct hq_access {
	char *version;
	char *server_uid; /* NULL in split files */
	int parts;	  /* HQ_ACCESS_* present */
	struct hq_access_part client, worker;
};

void hq_access_fini(struct hq_access *a);
/* A fresh record: new uid and keys; hosts copied, ports as given. */
int hq_access_generate(struct hq_access *a, const char *client_host,
    uint16_t client_port, const char *worker_host, uint16_t worker_port);
/* 6 random alphanumeric characters (spec 2.1). */
void hq_server_uid_generate(char out[7]);

/* JSON text of the record (pretty, as HyperQueue writes it). malloc'd. */
char *hq_access_to_json(const struct hq_access *a, int parts);
int hq_access_from_json(const char *text, struct hq_access *a,
    struct hq_errbuf *eb);
/*
 * Read an access file. Refuses a file that others may read or write (it
 * holds secret keys) and one whose version differs from ours, with the
 * messages of spec 2.11.
 */
int hq_access_read(const char *path, struct hq_access *a, struct hq_errbuf *eb);
/* Write exclusively with mode 0400. */
int hq_access_write(const char *path, const struct hq_access *a, int parts,
    struct hq_errbuf *eb);

/* $HQ_SERVER_DIR, else $HOME/.hq-server, else <tmp>/.hq-server. malloc'd. */
char *hq_server_dir_default(void);
/* Absolute form of a path (no symlink resolution). malloc'd. */
char *hq_path_absolute(const char *path);
/*
 * The directory holding access.json for a server dir: the target of
 * <dir>/hq-current when that is a symlink to a directory, else <dir>.
 */
char *hq_server_dir_current(const char *dir);
/* Create the server dir (0700) and the next NNN instance dir in it. */
int hq_server_dir_new_instance(const char *dir, char **instance,
    struct hq_errbuf *eb);
/* Point <dir>/hq-current at instance (atomically, via rename). */
int hq_server_dir_link(const char *dir, const char *instance,
    struct hq_errbuf *eb);
/* Remove <dir>/hq-current if it points at instance. */
void hq_server_dir_unlink(const char *dir, const char *instance);

#endif
