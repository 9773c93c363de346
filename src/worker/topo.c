/* SPDX-License-Identifier: MIT */
/*
 * Resource auto-detection through hwloc, environment variables, cgroups
 * and /proc. See topo.h for what is detected and where from.
 */
#include "worker/topo.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <hwloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"

#define TOPO_MIB (1024ull * 1024ull)

static void topo_warnf(const struct hq_topo_opts *o, const char *fmt, ...)
    HQ_PRINTF(2, 3);

static void
topo_warnf(const struct hq_topo_opts *o, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (o->warn == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	o->warn(o->warn_arg, msg);
}

/* ---- pool builders ------------------------------------------------------- */

/* Groups of numeric ids being collected. */
struct topo_groups {
	uint32_t *ids;
	uint32_t n, cap;
	uint32_t *gstart; /* ng + 1 once finished */
	uint32_t ng, gcap;
};

static void
topo_groups_fini(struct topo_groups *tg)
{
	free(tg->ids);
	free(tg->gstart);
	memset(tg, 0, sizeof *tg);
}

/* Turn groups of ids into a pool: several groups, or one group as a
 * range when contiguous, else a list. Consumes tg. */
static void
topo_pool_from_groups(const char *name, struct topo_groups *tg,
    struct hq_res_pool *p)
{
	uint32_t i;
	bool contiguous = true;

	memset(p, 0, sizeof *p);
	p->name = hq_xstrdup(name);
	p->nlabels = tg->n;
	p->labels = hq_xcalloc(tg->n, sizeof *p->labels);
	for (i = 0; i < tg->n; i++) {
		p->labels[i] = hq_xprintf("%u", tg->ids[i]);
		if (i > 0 && tg->ids[i] != tg->ids[0] + i)
			contiguous = false;
	}
	HQ_VEC_PUSH(tg->gstart, tg->ng, tg->gcap, tg->n);
	p->ngroups = tg->ng - 1;
	p->group_start = tg->gstart;
	tg->gstart = NULL;
	if (p->ngroups > 1)
		p->kind = HQ_POOL_GROUPS;
	else
		p->kind = contiguous ? HQ_POOL_RANGE : HQ_POOL_LIST;
	topo_groups_fini(tg);
}

static void
topo_pool_range(const char *name, uint32_t count, struct hq_res_pool *p)
{
	struct topo_groups tg;
	uint32_t i;

	memset(&tg, 0, sizeof tg);
	HQ_VEC_PUSH(tg.gstart, tg.ng, tg.gcap, 0);
	for (i = 0; i < count; i++)
		HQ_VEC_PUSH(tg.ids, tg.n, tg.cap, i);
	topo_pool_from_groups(name, &tg, p);
}

static void
topo_pool_list(const char *name, char **labels, uint32_t n,
    struct hq_res_pool *p)
{
	memset(p, 0, sizeof *p);
	p->name = hq_xstrdup(name);
	p->kind = HQ_POOL_LIST;
	p->nlabels = n;
	p->labels = labels;
	p->ngroups = 1;
	p->group_start = hq_xcalloc(2, sizeof *p->group_start);
	p->group_start[1] = n;
}

/* ---- files
 * ------------------------------------------------------------------- */

/* Read a small file under 'root' into buf (NUL-terminated). */
static int
topo_read(const char *root, const char *path, char *buf, size_t size)
{
	char full[4096];
	FILE *f;
	size_t n;

	snprintf(full, sizeof full, "%s%s", root, path);
	if ((f = fopen(full, "r")) == NULL)
		return -errno;
	n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	fclose(f);
	return 0;
}

/* A plain decimal u64 (surrounding whitespace allowed). */
static bool
topo_parse_u64(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return false;
	while (isspace((unsigned char)*end))
		end++;
	if (*end != '\0')
		return false;
	*out = v;
	return true;
}

/*
 * The lowest memory limit of cgroup 'dir' (v2 "memory.max" or v1
 * "memory.limit_in_bytes" under 'mount') and of its ancestors, in bytes;
 * UINT64_MAX if none.
 */
static uint64_t
topo_cgroup_walk(const char *root, const char *mount, const char *dir,
    const char *file)
{
	char *path = hq_xstrdup(dir), *slash, buf[64], rel[4096];
	uint64_t v, limit = UINT64_MAX;

	for (;;) {
		snprintf(rel, sizeof rel, "%s%s/%s", mount,
		    strcmp(path, "/") == 0 ? "" : path, file);
		if (topo_read(root, rel, buf, sizeof buf) == 0 &&
		    topo_parse_u64(buf, &v) && v < limit)
			limit = v;
		if (strcmp(path, "/") == 0 || path[0] != '/')
			break;
		slash = strrchr(path, '/');
		if (slash == path)
			path[1] = '\0';
		else
			*slash = '\0';
	}
	free(path);
	return limit;
}

/* Memory limit of this process's cgroup (v2, else v1), or UINT64_MAX. */
static uint64_t
topo_cgroup_mem_limit(const char *root)
{
	char buf[8192], *line, *save = NULL, *c1, *c2, *ctl, *tok, *s2;
	uint64_t limit = UINT64_MAX, v;

	if (topo_read(root, "/proc/self/cgroup", buf, sizeof buf) != 0)
		return UINT64_MAX;
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		/* "hierarchy-id:controllers:path" */
		if ((c1 = strchr(line, ':')) == NULL ||
		    (c2 = strchr(c1 + 1, ':')) == NULL)
			continue;
		*c2 = '\0';
		ctl = c1 + 1;
		if (*ctl == '\0') {
			v = topo_cgroup_walk(root, "/sys/fs/cgroup", c2 + 1,
			    "memory.max");
			limit = HQ_MIN(limit, v);
			continue;
		}
		s2 = NULL;
		for (tok = strtok_r(ctl, ",", &s2); tok != NULL;
		     tok = strtok_r(NULL, ",", &s2)) {
			if (strcmp(tok, "memory") == 0) {
				v = topo_cgroup_walk(root,
				    "/sys/fs/cgroup/memory", c2 + 1,
				    "memory.limit_in_bytes");
				limit = HQ_MIN(limit, v);
			}
		}
	}
	return limit;
}

/* Number of /proc/driver/nvidia/gpus entries (0 if absent). */
static uint32_t
topo_nvidia_proc_count(const char *root)
{
	char path[4096];
	struct dirent *de;
	uint32_t n = 0;
	DIR *d;

	snprintf(path, sizeof path, "%s/proc/driver/nvidia/gpus", root);
	if ((d = opendir(path)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* ---- environment --------------------------------------------------------- */

static int
topo_cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * GPUs from a comma-separated id variable (CUDA_VISIBLE_DEVICES,
 * ROCR_VISIBLE_DEVICES). True with *p filled when usable; a malformed
 * value gives a warning and is ignored.
 */
static bool
topo_gpus_from_env(const struct hq_topo_opts *o, const char *var,
    const char *name, struct hq_res_pool *p)
{
	const char *v = getenv(var), *s, *e;
	char **labels = NULL, **sorted = NULL;
	uint32_t n = 0, cap = 0, i;
	bool ok = false;

	if (v == NULL)
		return false;
	for (s = v;; s = e + 1) {
		const char *a = s, *b;

		e = strchr(s, ',');
		b = e != NULL ? e : s + strlen(s);
		while (a < b && isspace((unsigned char)*a))
			a++;
		while (b > a && isspace((unsigned char)b[-1]))
			b--;
		if (a == b) {
			topo_warnf(o, "%s has an empty item (\"%s\"); ignored",
			    var, v);
			goto out;
		}
		HQ_VEC_PUSH(labels, n, cap, hq_xstrndup(a, (size_t)(b - a)));
		if (e == NULL)
			break;
	}
	sorted = hq_xmemdup(labels, n * sizeof *labels);
	qsort(sorted, n, sizeof *sorted, topo_cmp_str);
	for (i = 1; i < n; i++) {
		if (strcmp(sorted[i - 1], sorted[i]) == 0) {
			topo_warnf(o, "%s contains duplicates (%s); ignored",
			    var, v);
			goto out;
		}
	}
	topo_pool_list(name, labels, n, p);
	labels = NULL;
	ok = true;
out:
	free(sorted);
	if (labels != NULL) {
		for (i = 0; i < n; i++)
			free(labels[i]);
		free(labels);
	}
	return ok;
}

/* ---- hwloc
 * -------------------------------------------------------------------- */

static int
topo_load(const struct hq_topo_opts *o, bool io, hwloc_topology_t *tp,
    struct hq_errbuf *eb)
{
	hwloc_topology_t t;
	int rc = 0;

	if (hwloc_topology_init(&t) != 0)
		return hq_errf(eb, HQ_EINVAL, "hwloc initialization failed");
	if (o->xml_path != NULL) {
		if (access(o->xml_path, R_OK) != 0) {
			rc = hq_errf(eb, HQ_EINVAL,
			    "cannot read hwloc XML file \"%s\": %s",
			    o->xml_path, strerror(errno));
			goto out;
		}
		if (hwloc_topology_set_xml(t, o->xml_path) != 0) {
			rc = hq_errf(eb, HQ_EINVAL,
			    "cannot use hwloc XML file \"%s\"", o->xml_path);
			goto out;
		}
	}
	if (io)
		hwloc_topology_set_io_types_filter(t,
		    HWLOC_TYPE_FILTER_KEEP_IMPORTANT);
	if (hwloc_topology_load(t) != 0) {
		rc = hq_errf(eb, HQ_EINVAL, "cannot load the topology%s%s%s",
		    o->xml_path != NULL ? " from \"" : "",
		    o->xml_path != NULL ? o->xml_path : "",
		    o->xml_path != NULL ? "\" (not an hwloc XML file?)" : "");
		goto out;
	}
out:
	if (rc != 0)
		hwloc_topology_destroy(t);
	else
		*tp = t;
	return rc;
}

/* PUs this process may use: the topology's allowed set (cgroup cpuset)
 * and, on this machine, the process affinity. */
static hwloc_bitmap_t
topo_allowed(const struct hq_topo_opts *o, hwloc_topology_t t)
{
	hwloc_bitmap_t allowed, bind;

	allowed = hwloc_bitmap_dup(hwloc_topology_get_allowed_cpuset(t));
	hwloc_bitmap_and(allowed, allowed,
	    hwloc_topology_get_topology_cpuset(t));
	if (o->xml_path == NULL) {
		bind = hwloc_bitmap_alloc();
		if (bind != NULL &&
		    hwloc_get_cpubind(t, bind, HWLOC_CPUBIND_PROCESS) == 0 &&
		    hwloc_bitmap_intersects(allowed, bind))
			hwloc_bitmap_and(allowed, allowed, bind);
		hwloc_bitmap_free(bind);
	}
	return allowed;
}

/* Is PU 'idx' the first allowed PU of its core? */
static bool
topo_first_of_core(hwloc_topology_t t, hwloc_const_bitmap_t allowed,
    unsigned idx)
{
	hwloc_obj_t pu = hwloc_get_pu_obj_by_os_index(t, idx), core;
	hwloc_bitmap_t c;
	bool first;

	if (pu == NULL)
		return true;
	core = hwloc_get_ancestor_obj_by_type(t, HWLOC_OBJ_CORE, pu);
	if (core == NULL || core->cpuset == NULL)
		return true;
	c = hwloc_bitmap_alloc();
	hwloc_bitmap_and(c, core->cpuset, allowed);
	first = hwloc_bitmap_first(c) == (int)idx;
	hwloc_bitmap_free(c);
	return first;
}

/* Append the allowed PUs of 'set' not yet seen as one group. */
static void
topo_add_group(const struct hq_topo_opts *o, hwloc_topology_t t,
    hwloc_const_bitmap_t allowed, hwloc_const_bitmap_t set, hwloc_bitmap_t seen,
    struct topo_groups *tg)
{
	hwloc_bitmap_t s = hwloc_bitmap_alloc();
	uint32_t before = tg->n;
	unsigned idx;

	hwloc_bitmap_and(s, set, allowed);
	hwloc_bitmap_andnot(s, s, seen);
	hwloc_bitmap_or(seen, seen, s);
	HQ_VEC_PUSH(tg->gstart, tg->ng, tg->gcap, tg->n);
	hwloc_bitmap_foreach_begin(idx, s)
	{
		if (!o->no_hyper_threading ||
		    topo_first_of_core(t, allowed, idx))
			HQ_VEC_PUSH(tg->ids, tg->n, tg->cap, (uint32_t)idx);
	}
	hwloc_bitmap_foreach_end();
	if (tg->n == before)
		tg->ng--; /* no usable PU in this node: drop the group */
	hwloc_bitmap_free(s);
}

static int
topo_cpus(const struct hq_topo_opts *o, hwloc_topology_t t,
    struct hq_res_pool *p, struct hq_errbuf *eb)
{
	hwloc_bitmap_t allowed = topo_allowed(o, t),
		       seen = hwloc_bitmap_alloc();
	struct topo_groups tg;
	hwloc_obj_t node;
	int i, nn;
	int rc = 0;

	memset(&tg, 0, sizeof tg);
	nn = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_NUMANODE);
	for (i = 0; i < nn; i++) {
		node =
		    hwloc_get_obj_by_type(t, HWLOC_OBJ_NUMANODE, (unsigned)i);
		if (node != NULL && node->cpuset != NULL)
			topo_add_group(o, t, allowed, node->cpuset, seen, &tg);
	}
	/* PUs outside every NUMA node (or no NUMA information at all). */
	topo_add_group(o, t, allowed, allowed, seen, &tg);
	if (tg.n == 0) {
		rc = hq_errf(eb, HQ_EINVAL, "no usable CPU found%s%s%s",
		    o->xml_path != NULL ? " in \"" : "",
		    o->xml_path != NULL ? o->xml_path : "",
		    o->xml_path != NULL ? "\"" : "");
		topo_groups_fini(&tg);
		goto out;
	}
	topo_pool_from_groups("cpus", &tg, p);
out:
	hwloc_bitmap_free(allowed);
	hwloc_bitmap_free(seen);
	return rc;
}

/* NVIDIA GPUs among hwloc's OS devices: CUDA ones, else NVML ones. */
static uint32_t
topo_hwloc_nvidia(hwloc_topology_t t)
{
	hwloc_obj_t od = NULL;
	uint32_t ncuda = 0, nnvml = 0;

	while ((od = hwloc_get_next_osdev(t, od)) != NULL) {
		if (od->subtype == NULL)
			continue;
		if (od->attr->osdev.type == HWLOC_OBJ_OSDEV_COPROC &&
		    strcmp(od->subtype, "CUDA") == 0)
			ncuda++;
		else if (od->attr->osdev.type == HWLOC_OBJ_OSDEV_GPU &&
		    strcmp(od->subtype, "NVML") == 0)
			nnvml++;
	}
	return ncuda > 0 ? ncuda : nnvml;
}

/* ---- memory
 * ------------------------------------------------------------------- */

/* Bytes to MiB in 1/10000 units, without overflow. */
static uint64_t
topo_mib_amount(uint64_t bytes)
{
	return bytes / TOPO_MIB * HQ_AMOUNT_ONE +
	    bytes % TOPO_MIB * HQ_AMOUNT_ONE / TOPO_MIB;
}

static uint64_t
topo_mem(const struct hq_topo_opts *o, hwloc_topology_t t, const char *root)
{
	uint64_t bytes = 0, limit;
	long pages, psize;

	if (t != NULL)
		bytes = hwloc_get_root_obj(t)->total_memory;
	if (bytes == 0 && o->xml_path == NULL) {
		pages = sysconf(_SC_PHYS_PAGES);
		psize = sysconf(_SC_PAGESIZE);
		if (pages > 0 && psize > 0)
			bytes = (uint64_t)pages * (uint64_t)psize;
	}
	if (root != NULL) {
		limit = topo_cgroup_mem_limit(root);
		if (limit < bytes)
			bytes = limit;
	}
	return topo_mib_amount(bytes);
}

/* SLURM_MEM_PER_NODE in MiB; false if unset or malformed (warning). */
static bool
topo_slurm_mem(const struct hq_topo_opts *o, uint64_t *amount)
{
	const char *v = getenv("SLURM_MEM_PER_NODE");
	uint64_t mib;

	if (v == NULL)
		return false;
	if (!topo_parse_u64(v, &mib) || mib == 0 ||
	    mib > UINT64_MAX / HQ_AMOUNT_ONE) {
		topo_warnf(o, "invalid SLURM_MEM_PER_NODE \"%s\"; ignored", v);
		return false;
	}
	*amount = mib * HQ_AMOUNT_ONE;
	return true;
}

/* ---- entry point
 * -------------------------------------------------------------- */

int
hq_topo_detect(const struct hq_topo_opts *o, struct hq_res_pool **pools,
    uint32_t *n, struct hq_errbuf *eb)
{
	const char *root = o->fs_root != NULL ? o->fs_root
	    : o->xml_path == NULL	      ? ""
					      : NULL;
	struct hq_res_pool found[4], *arr;
	hwloc_topology_t t = NULL;
	bool nvidia = false, slurm = false, need_hwloc, io = false;
	uint64_t mem = 0;
	uint32_t nfound = 0, i, count;
	int rc = 0;

	memset(found, 0, sizeof found);
	if (o->detect_gpus_nvidia) {
		nvidia = topo_gpus_from_env(o, "CUDA_VISIBLE_DEVICES",
		    "gpus/nvidia", &found[nfound]);
		if (!nvidia && root != NULL &&
		    (count = topo_nvidia_proc_count(root)) > 0) {
			topo_pool_range("gpus/nvidia", count, &found[nfound]);
			nvidia = true;
		}
		if (nvidia)
			nfound++;
		else
			io = true;
	}
	if (o->detect_gpus_amd &&
	    topo_gpus_from_env(o, "ROCR_VISIBLE_DEVICES", "gpus/amd",
		&found[nfound]))
		nfound++;
	if (o->detect_mem)
		slurm = topo_slurm_mem(o, &mem);
	need_hwloc = o->detect_cpus || io || (o->detect_mem && !slurm);
	if (need_hwloc && (rc = topo_load(o, io, &t, eb)) != 0) {
		if (o->xml_path != NULL)
			goto out;
		/* This machine without hwloc: one range of online CPUs. */
		t = NULL;
		rc = 0;
	}
	if (o->detect_cpus) {
		if (t != NULL) {
			if ((rc = topo_cpus(o, t, &found[nfound], eb)) != 0)
				goto out;
		} else {
			long c = sysconf(_SC_NPROCESSORS_ONLN);

			topo_pool_range("cpus", c > 0 ? (uint32_t)c : 1,
			    &found[nfound]);
		}
		nfound++;
	}
	if (io && t != NULL && (count = topo_hwloc_nvidia(t)) > 0)
		topo_pool_range("gpus/nvidia", count, &found[nfound++]);
	if (o->detect_mem) {
		if (!slurm)
			mem = topo_mem(o, t, root);
		if (mem > 0) {
			memset(&found[nfound], 0, sizeof found[nfound]);
			found[nfound].name = hq_xstrdup("mem");
			found[nfound].kind = HQ_POOL_SUM;
			found[nfound].size = mem;
			nfound++;
		}
	}
	arr = hq_xreallocarray(*pools, *n + nfound, sizeof *arr);
	for (i = 0; i < nfound; i++)
		arr[*n + i] = found[i];
	*pools = arr;
	*n += nfound;
	nfound = 0;
out:
	for (i = 0; i < nfound; i++)
		hq_res_pool_fini(&found[i]);
	if (t != NULL)
		hwloc_topology_destroy(t);
	return rc;
}
