#include "metrics/system_resources.h"

#include <sys/statvfs.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

namespace cinfer {
namespace {

// Value in kB of "Key:   123 kB" from a /proc file, or -1.
int64_t ProcKb(const char* file, const std::string& key) {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, key.size(), key) == 0 && line.size() > key.size() &&
        line[key.size()] == ':') {
      std::istringstream ss(line.substr(key.size() + 1));
      int64_t kb = -1;
      ss >> kb;
      return kb;
    }
  }
  return -1;
}

}  // namespace

SystemResources ReadSystemResources(const std::string& disk_path) {
  SystemResources r;
  r.cpu_count = static_cast<int>(std::thread::hardware_concurrency());
  double load[3] = {0, 0, 0};
  if (getloadavg(load, 3) == 3) {
    r.load_1m = load[0];
    r.load_5m = load[1];
    r.load_15m = load[2];
  }
  r.mem_total_mb = ProcKb("/proc/meminfo", "MemTotal") / 1024;
  r.mem_available_mb = ProcKb("/proc/meminfo", "MemAvailable") / 1024;
  r.process_rss_mb = ProcKb("/proc/self/status", "VmRSS") / 1024;
  struct statvfs vfs {};
  if (statvfs(disk_path.c_str(), &vfs) == 0) {
    r.disk_total_mb = static_cast<int64_t>(vfs.f_blocks * vfs.f_frsize / (1024 * 1024));
    r.disk_free_mb = static_cast<int64_t>(vfs.f_bavail * vfs.f_frsize / (1024 * 1024));
  }
  return r;
}

}  // namespace cinfer
