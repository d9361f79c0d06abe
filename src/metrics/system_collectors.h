// Scrape-time collectors of process, host and GPU figures, for
// Metrics::AddCollector. Each reads its sources (/proc, statvfs, NVML) when it
// is called and keeps no state between scrapes beyond what it captured when it
// was made. A source that cannot be read leaves its metrics out of that
// scrape; nothing here throws or aborts a scrape. Linux only.
#pragma once

#include <string>

#include "metrics/metrics.h"

namespace cinfer {

// Prometheus' standard process metrics, named, typed and described as the
// Prometheus client libraries' process collectors do, read from /proc/self:
// process_cpu_seconds_total, process_resident_memory_bytes,
// process_virtual_memory_bytes, process_open_fds, process_max_fds,
// process_threads, process_start_time_seconds.
MetricCollector ProcessCollector();

// The host: cinfer_host_cpu_seconds_total{mode} (the "cpu " line of
// /proc/stat), cinfer_host_cpus (online CPUs), cinfer_host_memory_total_bytes
// and cinfer_host_memory_available_bytes (/proc/meminfo), and
// cinfer_data_disk_{total,free,available}_bytes{path=data_dir} for the
// filesystem holding `data_dir` (statvfs).
MetricCollector HostCollector(std::string data_dir);

// Per GPU, through NVML (libnvidia-ml.so.1, loaded with dlopen):
// cinfer_gpu_utilization_ratio, cinfer_gpu_memory_used_bytes and
// cinfer_gpu_memory_total_bytes, labelled gpu (index) and name. An empty
// function when the library is absent or nvmlInit fails: register nothing
// then. The library stays loaded, and NVML initialized, until the last copy of
// the returned function is destroyed. Linking needs ${CMAKE_DL_LIBS}.
MetricCollector GpuCollector();

}  // namespace cinfer
