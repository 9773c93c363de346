/* SPDX-License-Identifier: MIT */
/*
 * Resource auto-detection of a worker (spec 2.9, `worker hwdetect`): CPUs
 * per NUMA node through hwloc, memory, NVIDIA and AMD GPUs. The only
 * module that includes <hwloc.h>. Never prints: warnings go to opts->warn.
 */
#ifndef HQ_TOPO_H
#define HQ_TOPO_H

#include <stdbool.h>
#include <stdint.h>

#include "common/model.h"
#include "common/util.h"

/* Called with a human-readable warning (e.g. duplicate GPU ids). */
typedef void hq_topo_warn_fn(void *arg, const char *msg);

struct hq_topo_opts {
	/* hwloc XML file to read instead of this machine (tests, hwdetect
	 * of a saved topology); NULL: this machine. */
	const char *xml_path;
	/* Keep only the first allowed PU of each core. */
	bool no_hyper_threading;
	bool detect_cpus, detect_mem, detect_gpus_nvidia, detect_gpus_amd;
	/*
	 * Prefix for the files read besides hwloc (/proc/self/cgroup,
	 * /sys/fs/cgroup/..., /proc/driver/nvidia/gpus). NULL means the real
	 * root for this machine; with xml_path set and fs_root NULL those
	 * files are not read (they describe another machine).
	 */
	const char *fs_root;
	hq_topo_warn_fn *warn; /* NULL: warnings are dropped */
	void *warn_arg;
};

/*
 * Detect the pools selected in 'o' and append them to *pools (a malloc'd
 * array of *n pools, possibly NULL/0; it is reallocated; not sorted):
 *  - "cpus": one group per NUMA node with the PUs this process may use
 *    (affinity and cgroup cpuset; with an XML file, the file's allowed
 *    PUs), labels are OS CPU numbers; a single group becomes a range if
 *    contiguous, else a list; with no_hyper_threading only the first
 *    allowed PU of each core is kept;
 *  - "mem": a sum pool in MiB (x10000): SLURM_MEM_PER_NODE (MiB) if set,
 *    else total RAM lowered to the cgroup v2/v1 memory limit;
 *  - "gpus/nvidia": CUDA_VISIBLE_DEVICES as a list (duplicates or empty
 *    items: warning and the variable is ignored), else the number of
 *    /proc/driver/nvidia/gpus entries, else hwloc's CUDA (or NVML) OS
 *    devices, as range(0-(N-1)); nothing if none is found;
 *  - "gpus/amd": ROCR_VISIBLE_DEVICES the same way (no other source).
 * Returns 0, or HQ_EINVAL (unreadable XML, no usable CPU) with eb filled;
 * on error *pools and *n are unchanged.
 */
int hq_topo_detect(const struct hq_topo_opts *o, struct hq_res_pool **pools,
    uint32_t *n, struct hq_errbuf *eb);

#endif
