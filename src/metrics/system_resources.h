// Snapshot of host resources: CPU count and load, memory, process RSS, and
// disk space of a directory. Read from /proc and statvfs; stateless.
#pragma once

#include <cstdint>
#include <string>

namespace cinfer {

struct SystemResources {
  int cpu_count = 0;
  double load_1m = 0, load_5m = 0, load_15m = 0;
  int64_t mem_total_mb = 0;
  int64_t mem_available_mb = 0;
  int64_t process_rss_mb = 0;
  int64_t disk_total_mb = 0;
  int64_t disk_free_mb = 0;
};

SystemResources ReadSystemResources(const std::string& disk_path);

}  // namespace cinfer
