/* SPDX-License-Identifier: MIT */
/* Resource detection from hwloc XML fixtures, env vars and fake cgroups. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/resource.h"
#include "worker/topo.h"

static char xml_buf[1024];

static const char *
xml(const char *name)
{
	const char *dir = getenv("HQ_TEST_DATA");

	snprintf(xml_buf, sizeof xml_buf, "%s/topo/%s",
	    dir != NULL ? dir : "tests/data", name);
	return xml_buf;
}

struct warnings {
	int n;
	char last[512];
};

static void
collect_warn(void *arg, const char *msg)
{
	struct warnings *w = arg;

	w->n++;
	snprintf(w->last, sizeof w->last, "%s", msg);
}

static int
clear_env(void **state)
{
	(void)state;
	unsetenv("CUDA_VISIBLE_DEVICES");
	unsetenv("ROCR_VISIBLE_DEVICES");
	unsetenv("SLURM_MEM_PER_NODE");
	return 0;
}

struct detected {
	struct hq_res_pool *pools;
	uint32_t n;
};

static void
detect_ok(const struct hq_topo_opts *o, struct detected *d)
{
	struct hq_errbuf eb = { "" };

	memset(d, 0, sizeof *d);
	if (hq_topo_detect(o, &d->pools, &d->n, &eb) != 0)
		fail_msg("detection failed: %s", eb.msg);
}

static void
detected_free(struct detected *d)
{
	uint32_t i;

	for (i = 0; i < d->n; i++)
		hq_res_pool_fini(&d->pools[i]);
	free(d->pools);
}

static const struct hq_res_pool *
find(const struct detected *d, const char *name)
{
	uint32_t i;

	for (i = 0; i < d->n; i++)
		if (strcmp(d->pools[i].name, name) == 0)
			return &d->pools[i];
	return NULL;
}

/* hwdetect form of a pool ("range(0-3)", "[[0,1],[2,3]]", "sum(N)"). */
static const char *
def_of(const struct hq_res_pool *p, struct hq_buf *b)
{
	hq_buf_reset(b);
	assert_non_null(p);
	hq_fmt_pool_def(b, p);
	hq_buf_append(b, "", 1);
	return (const char *)b->data;
}

static void
test_topo_numa_groups_smt(void **state)
{
	struct hq_topo_opts o = {
		.xml_path = xml("2x2x8-smt.xml"),
		.detect_cpus = true,
		.detect_mem = true,
	};
	const struct hq_res_pool *cpus, *mem;
	struct detected d;
	struct hq_buf b;
	uint32_t g;

	(void)state;
	hq_buf_init(&b);
	detect_ok(&o, &d);
	assert_int_equal(d.n, 2);
	cpus = find(&d, "cpus");
	assert_non_null(cpus);
	assert_int_equal(cpus->kind, HQ_POOL_GROUPS);
	assert_int_equal(cpus->ngroups, 4);
	assert_int_equal(cpus->nlabels, 64);
	for (g = 0; g < 4; g++)
		assert_int_equal(cpus->group_start[g + 1] -
			cpus->group_start[g],
		    16);
	/* node 0 holds cores 0-7 with their siblings 32-39 */
	assert_string_equal(cpus->labels[0], "0");
	assert_string_equal(cpus->labels[7], "7");
	assert_string_equal(cpus->labels[8], "32");
	assert_string_equal(cpus->labels[15], "39");
	assert_string_equal(cpus->labels[16], "8");
	mem = find(&d, "mem");
	assert_non_null(mem);
	assert_int_equal(mem->kind, HQ_POOL_SUM);
	assert_int_equal(mem->size, 4096ull * HQ_AMOUNT_ONE);
	assert_null(find(&d, "gpus/nvidia"));
	detected_free(&d);
	hq_buf_fini(&b);
}

static void
test_topo_no_hyper_threading(void **state)
{
	struct hq_topo_opts o = {
		.xml_path = xml("2x2x8-smt.xml"),
		.no_hyper_threading = true,
		.detect_cpus = true,
	};
	struct detected d;
	struct hq_buf b;

	(void)state;
	hq_buf_init(&b);
	detect_ok(&o, &d);
	assert_int_equal(d.n, 1);
	assert_string_equal(def_of(&d.pools[0], &b),
	    "[[0,1,2,3,4,5,6,7],[8,9,10,11,12,13,14,15],"
	    "[16,17,18,19,20,21,22,23],[24,25,26,27,28,29,30,31]]");
	detected_free(&d);
	hq_buf_fini(&b);
}

static void
test_topo_single_numa(void **state)
{
	struct hq_topo_opts o = {
		.xml_path = xml("1numa-4core.xml"),
		.detect_cpus = true,
		.detect_mem = true,
	};
	struct detected d;
	struct hq_buf b;

	(void)state;
	hq_buf_init(&b);
	detect_ok(&o, &d);
	assert_int_equal(find(&d, "cpus")->kind, HQ_POOL_RANGE);
	assert_string_equal(def_of(find(&d, "cpus"), &b), "range(0-3)");
	assert_string_equal(def_of(find(&d, "mem"), &b), "sum(1024)");
	detected_free(&d);
	/* without SMT there is nothing to filter */
	o.no_hyper_threading = true;
	o.detect_mem = false;
	detect_ok(&o, &d);
	assert_int_equal(d.n, 1);
	assert_string_equal(def_of(&d.pools[0], &b), "range(0-3)");
	detected_free(&d);
	hq_buf_fini(&b);
}

/* Disallowed PUs (cgroup cpuset in the file) are not offered. */
static void
test_topo_allowed_cpuset(void **state)
{
	struct hq_topo_opts o = {
		.xml_path = xml("1numa-masked.xml"),
		.detect_cpus = true,
	};
	struct detected d;
	struct hq_buf b;

	(void)state;
	hq_buf_init(&b);
	detect_ok(&o, &d);
	assert_int_equal(d.pools[0].kind, HQ_POOL_LIST);
	assert_string_equal(def_of(&d.pools[0], &b), "[0,2]");
	detected_free(&d);
	o.xml_path = xml("2numa-masked.xml");
	detect_ok(&o, &d);
	assert_int_equal(d.pools[0].kind, HQ_POOL_GROUPS);
	assert_string_equal(def_of(&d.pools[0], &b), "[[0,2],[4,5,6,7]]");
	detected_free(&d);
	hq_buf_fini(&b);
}

static void
test_topo_gpus_from_hwloc(void **state)
{
	struct hq_topo_opts o = {
		.xml_path = xml("4gpu.xml"),
		.detect_cpus = true,
		.detect_mem = true,
		.detect_gpus_nvidia = true,
		.detect_gpus_amd = true,
	};
	struct detected d;
	struct hq_buf b;

	(void)state;
	hq_buf_init(&b);
	detect_ok(&o, &d);
	assert_int_equal(d.n, 3);
	assert_string_equal(def_of(find(&d, "cpus"), &b), "range(0-7)");
	assert_string_equal(def_of(find(&d, "gpus/nvidia"), &b), "range(0-3)");
	assert_null(find(&d, "gpus/amd"));
	detected_free(&d);
	/* the other fixtures have no GPU */
	o.xml_path = xml("1numa-4core.xml");
	detect_ok(&o, &d);
	assert_int_equal(d.n, 2);
	assert_null(find(&d, "gpus/nvidia"));
	detected_free(&d);
	hq_buf_fini(&b);
}

static void
test_topo_gpus_from_env(void **state)
{
	struct warnings w = { 0, "" };
	struct hq_topo_opts o = {
		.xml_path = xml("4gpu.xml"),
		.detect_gpus_nvidia = true,
		.detect_gpus_amd = true,
		.warn = collect_warn,
		.warn_arg = &w,
	};
	struct detected d;
	struct hq_buf b;

	(void)state;
	hq_buf_init(&b);
	setenv("CUDA_VISIBLE_DEVICES", "2,3", 1);
	setenv("ROCR_VISIBLE_DEVICES", "GPU-aa, GPU-bb", 1);
	detect_ok(&o, &d);
	assert_int_equal(d.n, 2);
	assert_int_equal(find(&d, "gpus/nvidia")->kind, HQ_POOL_LIST);
	assert_string_equal(def_of(find(&d, "gpus/nvidia"), &b), "[2,3]");
	assert_string_equal(def_of(find(&d, "gpus/amd"), &b),
	    "[GPU-aa,GPU-bb]");
	assert_int_equal(w.n, 0);
	detected_free(&d);
	/* duplicates: a warning, and the variable is ignored */
	setenv("CUDA_VISIBLE_DEVICES", "0,1,0", 1);
	setenv("ROCR_VISIBLE_DEVICES", "1,,2", 1);
	detect_ok(&o, &d);
	assert_int_equal(w.n, 2);
	assert_non_null(strstr(w.last, "ROCR_VISIBLE_DEVICES"));
	assert_string_equal(def_of(find(&d, "gpus/nvidia"), &b), "range(0-3)");
	assert_null(find(&d, "gpus/amd"));
	detected_free(&d);
	unsetenv("CUDA_VISIBLE_DEVICES");
	unsetenv("ROCR_VISIBLE_DEVICES");
	hq_buf_fini(&b);
}

static void
test_topo_slurm_mem(void **state)
{
	struct warnings w = { 0, "" };
	struct hq_topo_opts o = {
		.xml_path = xml("2x2x8-smt.xml"),
		.detect_mem = true,
		.warn = collect_warn,
		.warn_arg = &w,
	};
	struct detected d;

	(void)state;
	setenv("SLURM_MEM_PER_NODE", "2000", 1);
	detect_ok(&o, &d);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.pools[0].size, 2000ull * HQ_AMOUNT_ONE);
	detected_free(&d);
	setenv("SLURM_MEM_PER_NODE", "2G", 1);
	detect_ok(&o, &d);
	assert_int_equal(w.n, 1);
	assert_non_null(strstr(w.last, "\"2G\""));
	assert_int_equal(d.pools[0].size, 4096ull * HQ_AMOUNT_ONE);
	detected_free(&d);
	unsetenv("SLURM_MEM_PER_NODE");
}

static void
write_file(const char *root, const char *rel, const char *text)
{
	char path[1024], *slash;
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", root, rel);
	for (slash = strchr(path + strlen(root) + 1, '/'); slash != NULL;
	     slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(path, 0755);
		*slash = '/';
	}
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void
remove_tree(const char *root)
{
	char cmd[1100];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
}

/* cgroup v2: the lowest memory.max of the cgroup and its ancestors. */
static void
test_topo_cgroup_v2_limit(void **state)
{
	char root[] = "/tmp/hq-topo-XXXXXX";
	struct hq_topo_opts o = {
		.xml_path = xml("2x2x8-smt.xml"),
		.detect_mem = true,
		.detect_gpus_nvidia = true,
		.fs_root = root,
	};
	struct detected d;
	struct hq_buf b;

	(void)state;
	hq_buf_init(&b);
	assert_non_null(mkdtemp(root));
	write_file(root, "proc/self/cgroup", "0::/job/step\n");
	write_file(root, "sys/fs/cgroup/memory.max", "max\n");
	write_file(root, "sys/fs/cgroup/job/memory.max", "536870912\n");
	write_file(root, "sys/fs/cgroup/job/step/memory.max", "max\n");
	write_file(root, "proc/driver/nvidia/gpus/0000:17:00.0/information",
	    "x");
	write_file(root, "proc/driver/nvidia/gpus/0000:27:00.0/information",
	    "x");
	detect_ok(&o, &d);
	assert_string_equal(def_of(find(&d, "mem"), &b), "sum(512)");
	/* /proc/driver/nvidia counts before hwloc's OS devices */
	assert_string_equal(def_of(find(&d, "gpus/nvidia"), &b), "range(0-1)");
	detected_free(&d);
	/* a limit above the RAM changes nothing */
	write_file(root, "sys/fs/cgroup/job/memory.max", "99999999999999\n");
	detect_ok(&o, &d);
	assert_string_equal(def_of(find(&d, "mem"), &b), "sum(4096)");
	detected_free(&d);
	remove_tree(root);
	hq_buf_fini(&b);
}

static void
test_topo_cgroup_v1_limit(void **state)
{
	char root[] = "/tmp/hq-topo-XXXXXX";
	struct hq_topo_opts o = {
		.xml_path = xml("2x2x8-smt.xml"),
		.detect_mem = true,
		.fs_root = root,
	};
	struct detected d;
	struct hq_buf b;

	(void)state;
	hq_buf_init(&b);
	assert_non_null(mkdtemp(root));
	write_file(root, "proc/self/cgroup",
	    "12:cpu,cpuacct:/slurm\n5:memory,hugetlb:/slurm/uid_1/job_7\n"
	    "1:name=systemd:/user.slice\n");
	write_file(root,
	    "sys/fs/cgroup/memory/slurm/uid_1/job_7/memory.limit_in_bytes",
	    "268959744\n"); /* 256.5 MiB */
	detect_ok(&o, &d);
	assert_int_equal(find(&d, "mem")->size, 2565000);
	assert_string_equal(def_of(find(&d, "mem"), &b), "sum(256.5)");
	detected_free(&d);
	remove_tree(root);
	hq_buf_fini(&b);
}

static void
test_topo_appends(void **state)
{
	struct hq_topo_opts o = {
		.xml_path = xml("1numa-4core.xml"),
		.detect_cpus = true,
	};
	struct hq_errbuf eb = { "" };
	struct hq_worker_res res;
	struct detected d;
	struct hq_buf b;

	(void)state;
	hq_buf_init(&b);
	memset(&d, 0, sizeof d);
	d.pools = hq_xcalloc(1, sizeof *d.pools);
	assert_int_equal(hq_parse_pool_def("fpga", "[x]", false, &d.pools[0],
			     &eb),
	    0);
	d.n = 1;
	assert_int_equal(hq_topo_detect(&o, &d.pools, &d.n, &eb), 0);
	assert_int_equal(d.n, 2);
	assert_string_equal(d.pools[0].name, "fpga");
	assert_string_equal(d.pools[1].name, "cpus");
	assert_int_equal(hq_worker_res_from_pools(d.pools, d.n, &res, &eb), 0);
	hq_fmt_worker_res_summary(&b, &res);
	hq_buf_append(&b, "", 1);
	assert_string_equal((const char *)b.data, "cpus 4; fpga 1");
	hq_worker_res_fini(&res);
	hq_buf_fini(&b);
}

static void
test_topo_bad_xml(void **state)
{
	char path[] = "/tmp/hq-topo-bad-XXXXXX";
	struct hq_topo_opts o = {
		.xml_path = "/nonexistent/topo.xml",
		.detect_cpus = true,
	};
	struct hq_errbuf eb = { "" };
	struct hq_res_pool *pools = NULL;
	uint32_t n = 0;
	int fd;

	(void)state;
	assert_int_equal(hq_topo_detect(&o, &pools, &n, &eb), HQ_EINVAL);
	assert_non_null(strstr(eb.msg, "/nonexistent/topo.xml"));
	assert_null(pools);
	assert_int_equal(n, 0);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "not xml\n", 8), 8);
	close(fd);
	o.xml_path = path;
	assert_int_equal(hq_topo_detect(&o, &pools, &n, &eb), HQ_EINVAL);
	assert_non_null(strstr(eb.msg, path));
	assert_null(pools);
	unlink(path);
}

/* This machine: whatever it is, cpus and mem are found and consistent. */
static void
test_topo_this_machine(void **state)
{
	struct hq_topo_opts o = {
		.no_hyper_threading = false,
		.detect_cpus = true,
		.detect_mem = true,
	};
	const struct hq_res_pool *cpus, *mem;
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	struct detected d;

	(void)state;
	detect_ok(&o, &d);
	cpus = find(&d, "cpus");
	mem = find(&d, "mem");
	assert_non_null(cpus);
	assert_non_null(mem);
	assert_true(cpus->nlabels >= 1);
	assert_true((long)cpus->nlabels <= online);
	assert_true(mem->size > 0);
	detected_free(&d);
	o.no_hyper_threading = true;
	detect_ok(&o, &d);
	assert_true(find(&d, "cpus")->nlabels >= 1);
	detected_free(&d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_topo_numa_groups_smt, clear_env),
		cmocka_unit_test_setup(test_topo_no_hyper_threading, clear_env),
		cmocka_unit_test_setup(test_topo_single_numa, clear_env),
		cmocka_unit_test_setup(test_topo_allowed_cpuset, clear_env),
		cmocka_unit_test_setup(test_topo_gpus_from_hwloc, clear_env),
		cmocka_unit_test_setup(test_topo_gpus_from_env, clear_env),
		cmocka_unit_test_setup(test_topo_slurm_mem, clear_env),
		cmocka_unit_test_setup(test_topo_cgroup_v2_limit, clear_env),
		cmocka_unit_test_setup(test_topo_cgroup_v1_limit, clear_env),
		cmocka_unit_test_setup(test_topo_appends, clear_env),
		cmocka_unit_test_setup(test_topo_bad_xml, clear_env),
		cmocka_unit_test_setup(test_topo_this_machine, clear_env),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
