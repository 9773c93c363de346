/* SPDX-License-Identifier: MIT */
/* Server directory layout and access.json. */
#include "common/access.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/version.h"

void
hq_access_fini(struct hq_access *a)
{
	free(a->version);
	free(a->server_uid);
	free(a->client.host);
	free(a->worker.host);
	memset(a, 0, sizeof *a);
}

void
hq_server_uid_generate(char out[7])
{
	static const char alnum[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	uint8_t rnd[6];
	int i;

	if (hq_random_bytes(rnd, sizeof rnd) != 0)
		memset(rnd, 7, sizeof rnd);
	for (i = 0; i < 6; i++)
		out[i] = alnum[rnd[i] % (sizeof alnum - 1)];
	out[6] = '\0';
}

int
hq_access_generate(struct hq_access *a, const char *client_host,
    uint16_t client_port, const char *worker_host, uint16_t worker_port)
{
	char uid[7];
	int rc;

	memset(a, 0, sizeof *a);
	hq_server_uid_generate(uid);
	a->version = hq_xstrdup(HQ_VERSION);
	a->server_uid = hq_xstrdup(uid);
	a->parts = HQ_ACCESS_ALL;
	a->client.host = hq_xstrdup(client_host);
	a->client.port = client_port;
	a->client.has_key = true;
	a->worker.host = hq_xstrdup(worker_host);
	a->worker.port = worker_port;
	a->worker.has_key = true;
	if ((rc = hq_random_bytes(a->client.key, HQ_KEY_BYTES)) != 0 ||
	    (rc = hq_random_bytes(a->worker.key, HQ_KEY_BYTES)) != 0) {
		hq_access_fini(a);
		return rc;
	}
	return 0;
}

static json_t *
part_json(const struct hq_access_part *p)
{
	char hex[2 * HQ_KEY_BYTES + 1];

	hq_hex_encode(p->key, HQ_KEY_BYTES, hex);
	return json_pack("{s:s, s:I, s:o}", "host", p->host ? p->host : "",
	    "port", (json_int_t)p->port, "secret_key",
	    p->has_key ? json_string(hex) : json_null());
}

char *
hq_access_to_json(const struct hq_access *a, int parts)
{
	json_t *o = json_object();
	char *text, *out;

	json_object_set_new(o, "version", json_string(a->version));
	if (parts == HQ_ACCESS_ALL && a->server_uid != NULL)
		json_object_set_new(o, "server_uid",
		    json_string(a->server_uid));
	if (parts & HQ_ACCESS_CLIENT)
		json_object_set_new(o, "client", part_json(&a->client));
	if (parts & HQ_ACCESS_WORKER)
		json_object_set_new(o, "worker", part_json(&a->worker));
	text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (text == NULL)
		hq_fatalx("out of memory");
	out = hq_xprintf("%s\n", text);
	free(text);
	return out;
}

static int
part_from_json(json_t *o, const char *name, struct hq_access_part *p,
    struct hq_errbuf *eb)
{
	json_t *host, *port, *key;

	if (!json_is_object(o))
		return hq_errf(eb, HQ_EINVAL, "\"%s\" is not an object", name);
	host = json_object_get(o, "host");
	port = json_object_get(o, "port");
	key = json_object_get(o, "secret_key");
	if (!json_is_string(host))
		return hq_errf(eb, HQ_EINVAL, "\"%s.host\" must be a string",
		    name);
	if (!json_is_integer(port) || json_integer_value(port) < 0 ||
	    json_integer_value(port) > 65535)
		return hq_errf(eb, HQ_EINVAL,
		    "\"%s.port\" must be a port number", name);
	p->host = hq_xstrdup(json_string_value(host));
	p->port = (uint16_t)json_integer_value(port);
	if (key == NULL || json_is_null(key)) {
		p->has_key = false;
	} else if (!json_is_string(key) ||
	    hq_hex_decode(json_string_value(key), p->key, HQ_KEY_BYTES) != 0) {
		return hq_errf(eb, HQ_EINVAL,
		    "\"%s.secret_key\" must be 64 hex characters or null",
		    name);
	} else {
		p->has_key = true;
	}
	return 0;
}

int
hq_access_from_json(const char *text, struct hq_access *a, struct hq_errbuf *eb)
{
	json_error_t jerr;
	json_t *root = json_loads(text, 0, &jerr), *v;
	int rc = 0;

	memset(a, 0, sizeof *a);
	if (root == NULL)
		return hq_errf(eb, HQ_EINVAL, "invalid JSON at line %d: %s",
		    jerr.line, jerr.text);
	if (!json_is_object(root)) {
		rc = hq_errf(eb, HQ_EINVAL,
		    "the access record is not an object");
		goto out;
	}
	v = json_object_get(root, "version");
	if (!json_is_string(v)) {
		rc = hq_errf(eb, HQ_EINVAL, "missing \"version\"");
		goto out;
	}
	a->version = hq_xstrdup(json_string_value(v));
	v = json_object_get(root, "server_uid");
	if (json_is_string(v))
		a->server_uid = hq_xstrdup(json_string_value(v));
	if ((v = json_object_get(root, "client")) != NULL) {
		if ((rc = part_from_json(v, "client", &a->client, eb)))
			goto out;
		a->parts |= HQ_ACCESS_CLIENT;
	}
	if ((v = json_object_get(root, "worker")) != NULL) {
		if ((rc = part_from_json(v, "worker", &a->worker, eb)))
			goto out;
		a->parts |= HQ_ACCESS_WORKER;
	}
	if (a->parts == 0)
		rc = hq_errf(eb, HQ_EINVAL,
		    "the access record has neither \"client\" nor \"worker\"");
out:
	json_decref(root);
	if (rc != 0)
		hq_access_fini(a);
	return rc;
}

int
hq_access_read(const char *path, struct hq_access *a, struct hq_errbuf *eb)
{
	struct hq_errbuf inner;
	struct stat sb;
	char *text = NULL;
	ssize_t n;
	int fd, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return hq_errf(eb, -errno, "cannot open access file %s: %s",
		    path, strerror(errno));
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return hq_errf(eb, HQ_EINVAL, "%s is not a regular file", path);
	}
	if (sb.st_mode & (S_IRWXG | S_IRWXO)) {
		close(fd);
		return hq_errf(eb, HQ_EAUTH,
		    "access file %s holds secret keys but is accessible by "
		    "other users (mode %04o); run `chmod 600 %s`",
		    path, (unsigned)(sb.st_mode & 07777), path);
	}
	if (sb.st_size > 1 << 20) {
		close(fd);
		return hq_errf(eb, HQ_ETOOBIG, "access file %s is too large",
		    path);
	}
	text = hq_xcalloc(1, (size_t)sb.st_size + 1);
	n = read(fd, text, (size_t)sb.st_size);
	close(fd);
	if (n != sb.st_size) {
		free(text);
		return hq_errf(eb, HQ_EINVAL, "cannot read access file %s",
		    path);
	}
	rc = hq_access_from_json(text, a, &inner);
	free(text);
	if (rc != 0)
		return hq_errf(eb, rc, "invalid access file %s: %s", path,
		    inner.msg);
	if (strcmp(a->version, HQ_VERSION) != 0) {
		rc = hq_errf(eb, HQ_EVERSION,
		    "Hyperqueue version mismatch detected.\nAccess record "
		    "contains version %s, but the current version is %s.",
		    a->version, HQ_VERSION);
		hq_access_fini(a);
		return rc;
	}
	return 0;
}

int
hq_access_write(const char *path, const struct hq_access *a, int parts,
    struct hq_errbuf *eb)
{
	char *text = hq_access_to_json(a, parts);
	size_t len = strlen(text);
	int fd, rc = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0400);
	if (fd < 0) {
		rc = hq_errf(eb, -errno, "cannot create access file %s: %s",
		    path, strerror(errno));
		goto out;
	}
	if (write(fd, text, len) != (ssize_t)len || fsync(fd) != 0) {
		rc = hq_errf(eb, -errno, "cannot write access file %s: %s",
		    path, strerror(errno));
		close(fd);
		unlink(path);
		goto out;
	}
	close(fd);
out:
	free(text);
	return rc;
}

char *
hq_path_absolute(const char *path)
{
	char cwd[PATH_MAX];

	if (path[0] == '/')
		return hq_xstrdup(path);
	if (getcwd(cwd, sizeof cwd) == NULL)
		return hq_xstrdup(path);
	if (strcmp(path, ".") == 0)
		return hq_xstrdup(cwd);
	while (path[0] == '.' && path[1] == '/')
		path += 2;
	return hq_xprintf("%s/%s", strcmp(cwd, "/") == 0 ? "" : cwd, path);
}

char *
hq_server_dir_default(void)
{
	const char *e = getenv("HQ_SERVER_DIR");
	const char *home = getenv("HOME");

	if (e != NULL && *e != '\0')
		return hq_path_absolute(e);
	if (home != NULL && *home != '\0')
		return hq_xprintf("%s/.hq-server", home);
	e = getenv("TMPDIR");
	return hq_xprintf("%s/.hq-server", e && *e ? e : "/tmp");
}

char *
hq_server_dir_current(const char *dir)
{
	char *link = hq_xprintf("%s/hq-current", dir);
	char target[PATH_MAX];
	struct stat sb;
	ssize_t n;

	if (lstat(link, &sb) == 0 && S_ISLNK(sb.st_mode) &&
	    stat(link, &sb) == 0 && S_ISDIR(sb.st_mode) &&
	    (n = readlink(link, target, sizeof target - 1)) > 0) {
		target[n] = '\0';
		free(link);
		if (target[0] == '/')
			return hq_xstrdup(target);
		return hq_xprintf("%s/%s", dir, target);
	}
	free(link);
	return hq_xstrdup(dir);
}

static int
mkdir_p(const char *path, mode_t mode)
{
	char *p = hq_xstrdup(path), *s;
	int rc = 0;

	for (s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			rc = -errno;
		*s = '/';
		if (rc)
			break;
	}
	if (rc == 0 && mkdir(p, mode) < 0 && errno != EEXIST)
		rc = -errno;
	free(p);
	return rc;
}

int
hq_server_dir_new_instance(const char *dir, char **instance,
    struct hq_errbuf *eb)
{
	struct dirent *de;
	DIR *d;
	long max = 0;
	int rc;

	if ((rc = mkdir_p(dir, 0700)) != 0)
		return hq_errf(eb, rc, "cannot create server directory %s: %s",
		    dir, strerror(-rc));
	if (chmod(dir, 0700) != 0)
		return hq_errf(eb, -errno, "cannot set the mode of %s: %s", dir,
		    strerror(errno));
	if ((d = opendir(dir)) == NULL)
		return hq_errf(eb, -errno, "cannot read %s: %s", dir,
		    strerror(errno));
	while ((de = readdir(d)) != NULL) {
		char *end;
		long v = strtol(de->d_name, &end, 10);

		if (*end == '\0' && end != de->d_name && v > max)
			max = v;
	}
	closedir(d);
	for (;;) {
		char *path = hq_xprintf("%s/%03ld", dir, ++max);

		if (mkdir(path, 0700) == 0) {
			*instance = path;
			return 0;
		}
		rc = errno;
		free(path);
		if (rc != EEXIST)
			return hq_errf(eb, -rc, "cannot create %s/%03ld: %s",
			    dir, max, strerror(rc));
	}
}

int
hq_server_dir_link(const char *dir, const char *instance, struct hq_errbuf *eb)
{
	char *tmp = hq_xprintf("%s/.hq-current.%d", dir, (int)getpid());
	char *link = hq_xprintf("%s/hq-current", dir);
	int rc = 0;

	unlink(tmp);
	if (symlink(instance, tmp) != 0 || rename(tmp, link) != 0) {
		rc = hq_errf(eb, -errno, "cannot create symlink %s: %s", link,
		    strerror(errno));
		unlink(tmp);
	}
	free(tmp);
	free(link);
	return rc;
}

void
hq_server_dir_unlink(const char *dir, const char *instance)
{
	char *link = hq_xprintf("%s/hq-current", dir);
	char target[PATH_MAX];
	ssize_t n = readlink(link, target, sizeof target - 1);

	if (n > 0) {
		target[n] = '\0';
		if (strcmp(target, instance) == 0)
			unlink(link);
	}
	free(link);
}
