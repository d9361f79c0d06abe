#include "metrics/system_collectors.h"

#include <dirent.h>
#include <dlfcn.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <array>
#include <charconv>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string_view>
#include <utility>
#include <vector>

namespace cinfer {
namespace {

using Labels = std::vector<std::pair<std::string, std::string>>;
using Type = MetricSnapshot::Type;

// One snapshot with a single sample.
void Add(std::vector<MetricSnapshot>& out, std::string name, std::string help, Type type,
         double value, Labels labels = {}) {
  MetricSnapshot snapshot{std::move(name), std::move(help), type, {}};
  snapshot.samples.push_back(MetricSample{std::move(labels), value});
  out.push_back(std::move(snapshot));
}

// The whole of a (/proc) file, or nullopt when it cannot be read. /proc files
// report size 0, so this streams rather than asking for the size.
std::optional<std::string> ReadFile(const char* path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return std::move(text).str();
}

std::optional<double> ParseNumber(std::string_view text) {
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// The whitespace-separated numbers that follow `prefix` on the first line of
// `text` starting with it; empty when there is no such line.
std::vector<double> NumbersAfter(const std::string& text, std::string_view prefix) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.compare(0, prefix.size(), prefix) != 0) continue;
    std::istringstream fields(line.substr(prefix.size()));
    std::vector<double> numbers;
    std::string field;
    while (fields >> field) {
      std::optional<double> number = ParseNumber(field);
      if (!number) break;
      numbers.push_back(*number);
    }
    return numbers;
  }
  return {};
}

double ClockTicksPerSecond() {
  long ticks = sysconf(_SC_CLK_TCK);
  return ticks > 0 ? static_cast<double>(ticks) : 100.0;  // Linux's USER_HZ
}

// ---- Process ----

// The fields of /proc/self/stat that the process metrics need (proc(5)).
struct ProcStat {
  double utime_ticks = 0;
  double stime_ticks = 0;
  double threads = 0;
  double start_ticks = 0;  // since boot
  double vsize_bytes = 0;
  double rss_pages = 0;
};

std::optional<ProcStat> ReadProcStat() {
  std::optional<std::string> text = ReadFile("/proc/self/stat");
  if (!text) return std::nullopt;
  // The command name (field 2) is in parentheses and may hold spaces or ')':
  // fields are counted from the last ')'. fields[0] is field 3 (state).
  size_t paren = text->rfind(')');
  if (paren == std::string::npos) return std::nullopt;
  std::istringstream in(text->substr(paren + 1));
  std::vector<std::string> fields;
  for (std::string field; fields.size() < 22 && in >> field;) fields.push_back(std::move(field));
  if (fields.size() < 22) return std::nullopt;
  auto field = [&fields](int number) { return ParseNumber(fields[number - 3]); };
  std::optional<double> utime = field(14), stime = field(15), threads = field(20),
                        start = field(22), vsize = field(23), rss = field(24);
  if (!utime || !stime || !threads || !start || !vsize || !rss) return std::nullopt;
  return ProcStat{*utime, *stime, *threads, *start, *vsize, *rss};
}

// Seconds since the epoch at boot ("btime" of /proc/stat).
std::optional<double> BootTime() {
  std::optional<std::string> text = ReadFile("/proc/stat");
  if (!text) return std::nullopt;
  std::vector<double> btime = NumbersAfter(*text, "btime ");
  if (btime.empty()) return std::nullopt;
  return btime[0];
}

// Entries of /proc/self/fd, or nullopt. Like the client libraries, this counts
// the descriptor of the directory being listed too.
std::optional<double> OpenFds() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return std::nullopt;
  double count = 0;
  while (const dirent* entry = readdir(dir)) {
    if (std::strcmp(entry->d_name, ".") != 0 && std::strcmp(entry->d_name, "..") != 0) ++count;
  }
  closedir(dir);
  return count;
}

void AddProcStat(const ProcStat& stat, std::vector<MetricSnapshot>& out) {
  const double tick = ClockTicksPerSecond();
  Add(out, "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
      Type::kCounter, (stat.utime_ticks + stat.stime_ticks) / tick);
  Add(out, "process_virtual_memory_bytes", "Virtual memory size in bytes.", Type::kGauge,
      stat.vsize_bytes);
  long page = sysconf(_SC_PAGESIZE);
  if (page > 0) {
    Add(out, "process_resident_memory_bytes", "Resident memory size in bytes.", Type::kGauge,
        stat.rss_pages * static_cast<double>(page));
  }
  Add(out, "process_threads", "Number of OS threads in the process.", Type::kGauge, stat.threads);
  if (std::optional<double> boot = BootTime()) {
    Add(out, "process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
        Type::kGauge, *boot + stat.start_ticks / tick);
  }
}

void CollectProcess(std::vector<MetricSnapshot>& out) {
  if (std::optional<ProcStat> stat = ReadProcStat()) AddProcStat(*stat, out);
  if (std::optional<double> fds = OpenFds()) {
    Add(out, "process_open_fds", "Number of open file descriptors.", Type::kGauge, *fds);
  }
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    Add(out, "process_max_fds", "Maximum number of open file descriptors.", Type::kGauge,
        static_cast<double>(limit.rlim_cur));
  }
}

// ---- Host ----

void AddHostCpu(std::vector<MetricSnapshot>& out) {
  std::optional<std::string> text = ReadFile("/proc/stat");
  if (!text) return;
  // The aggregate line's first columns, in order (proc(5)). Kernels older than
  // steal (2.6.11) have fewer: what is there is reported.
  static constexpr std::array<const char*, 8> kModes = {"user",   "nice", "system",  "idle",
                                                        "iowait", "irq",  "softirq", "steal"};
  std::vector<double> ticks = NumbersAfter(*text, "cpu ");
  if (ticks.empty()) return;
  const double tick = ClockTicksPerSecond();
  MetricSnapshot cpu{"cinfer_host_cpu_seconds_total",
                     "Seconds the host's CPUs spent in each mode, summed over CPUs.",
                     Type::kCounter,
                     {}};
  for (size_t i = 0; i < kModes.size() && i < ticks.size(); ++i) {
    cpu.samples.push_back(MetricSample{{{"mode", kModes[i]}}, ticks[i] / tick});
  }
  out.push_back(std::move(cpu));
}

void AddHostMemory(std::vector<MetricSnapshot>& out) {
  std::optional<std::string> text = ReadFile("/proc/meminfo");
  if (!text) return;
  // "MemTotal:  16318480 kB"
  std::vector<double> total = NumbersAfter(*text, "MemTotal:");
  if (!total.empty()) {
    Add(out, "cinfer_host_memory_total_bytes", "Host memory in bytes (MemTotal).", Type::kGauge,
        total[0] * 1024);
  }
  std::vector<double> available = NumbersAfter(*text, "MemAvailable:");
  if (!available.empty()) {
    Add(out, "cinfer_host_memory_available_bytes",
        "Host memory available for starting new work without swapping, in bytes (MemAvailable).",
        Type::kGauge, available[0] * 1024);
  }
}

void AddDataDisk(const std::string& data_dir, std::vector<MetricSnapshot>& out) {
  struct statvfs vfs {};
  if (statvfs(data_dir.c_str(), &vfs) != 0) return;
  const double block = static_cast<double>(vfs.f_frsize);
  Add(out, "cinfer_data_disk_total_bytes", "Size of the filesystem holding the data directory.",
      Type::kGauge, static_cast<double>(vfs.f_blocks) * block, {{"path", data_dir}});
  Add(out, "cinfer_data_disk_free_bytes",
      "Free bytes on the filesystem holding the data directory, root's reserve included.",
      Type::kGauge, static_cast<double>(vfs.f_bfree) * block, {{"path", data_dir}});
  Add(out, "cinfer_data_disk_available_bytes",
      "Bytes on the filesystem holding the data directory that the server can still use.",
      Type::kGauge, static_cast<double>(vfs.f_bavail) * block, {{"path", data_dir}});
}

void CollectHost(const std::string& data_dir, std::vector<MetricSnapshot>& out) {
  AddHostCpu(out);
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  if (cpus > 0) {
    Add(out, "cinfer_host_cpus", "Online CPUs of the host.", Type::kGauge,
        static_cast<double>(cpus));
  }
  AddHostMemory(out);
  AddDataDisk(data_dir, out);
}

// ---- GPU (NVML) ----

// The few NVML declarations used, as documented in nvml.h (not included: the
// header ships with the CUDA toolkit, which a CPU-only build lacks). The
// structs are layout-compatible with NVML's; nvmlReturn_t is a C enum, passed
// as an int, whose 0 is NVML_SUCCESS.
using nvmlReturn_t = int;
struct nvmlDevice_st;
using nvmlDevice_t = nvmlDevice_st*;
struct nvmlUtilization_t {
  unsigned int gpu;     // percent of the sample period in which a kernel ran
  unsigned int memory;  // percent of the sample period in which memory was read or written
};
struct nvmlMemory_t {
  unsigned long long total;
  unsigned long long free;
  unsigned long long used;
};
constexpr nvmlReturn_t kNvmlSuccess = 0;
constexpr unsigned int kNvmlNameSize = 96;  // NVML_DEVICE_NAME_V2_BUFFER_SIZE

// libnvidia-ml, loaded, and (after Init) initialized. Shared by the copies of
// the collector: the last one to go shuts NVML down and unloads the library.
class NvmlLibrary {
 public:
  explicit NvmlLibrary(void* handle) : handle_(handle) {}
  ~NvmlLibrary() {
    if (initialized_) shutdown_();
    dlclose(handle_);
  }
  NvmlLibrary(const NvmlLibrary&) = delete;
  NvmlLibrary& operator=(const NvmlLibrary&) = delete;

  // Resolves the entry points and calls nvmlInit_v2. False when a symbol is
  // missing or the initialization fails (no driver, no device node).
  bool Init() {
    if (!Resolve(init_, "nvmlInit_v2") || !Resolve(shutdown_, "nvmlShutdown") ||
        !Resolve(get_count_, "nvmlDeviceGetCount_v2") ||
        !Resolve(get_handle_, "nvmlDeviceGetHandleByIndex_v2") ||
        !Resolve(get_name_, "nvmlDeviceGetName") ||
        !Resolve(get_utilization_, "nvmlDeviceGetUtilizationRates") ||
        !Resolve(get_memory_, "nvmlDeviceGetMemoryInfo")) {
      return false;
    }
    initialized_ = init_() == kNvmlSuccess;
    return initialized_;
  }

  void Collect(std::vector<MetricSnapshot>& out) const;

 private:
  template <typename Fn>
  bool Resolve(Fn*& fn, const char* name) {
    fn = reinterpret_cast<Fn*>(dlsym(handle_, name));
    return fn != nullptr;
  }
  // One device's samples, appended to the three snapshots (0, 1 or 2 of them
  // each when a query fails).
  void CollectDevice(unsigned int index, MetricSnapshot& utilization, MetricSnapshot& used,
                     MetricSnapshot& total) const;

  void* handle_;
  bool initialized_ = false;
  nvmlReturn_t (*init_)() = nullptr;
  nvmlReturn_t (*shutdown_)() = nullptr;
  nvmlReturn_t (*get_count_)(unsigned int*) = nullptr;
  nvmlReturn_t (*get_handle_)(unsigned int, nvmlDevice_t*) = nullptr;
  nvmlReturn_t (*get_name_)(nvmlDevice_t, char*, unsigned int) = nullptr;
  nvmlReturn_t (*get_utilization_)(nvmlDevice_t, nvmlUtilization_t*) = nullptr;
  nvmlReturn_t (*get_memory_)(nvmlDevice_t, nvmlMemory_t*) = nullptr;
};

void NvmlLibrary::CollectDevice(unsigned int index, MetricSnapshot& utilization,
                                MetricSnapshot& used, MetricSnapshot& total) const {
  nvmlDevice_t device = nullptr;
  if (get_handle_(index, &device) != kNvmlSuccess) return;
  std::array<char, kNvmlNameSize> name{};
  if (get_name_(device, name.data(), kNvmlNameSize) != kNvmlSuccess) name[0] = '\0';
  name.back() = '\0';
  Labels labels = {{"gpu", std::to_string(index)}, {"name", name.data()}};
  nvmlUtilization_t rates{};
  if (get_utilization_(device, &rates) == kNvmlSuccess) {
    utilization.samples.push_back(MetricSample{labels, rates.gpu / 100.0});
  }
  nvmlMemory_t memory{};
  if (get_memory_(device, &memory) == kNvmlSuccess) {
    used.samples.push_back(MetricSample{labels, static_cast<double>(memory.used)});
    total.samples.push_back(MetricSample{labels, static_cast<double>(memory.total)});
  }
}

void NvmlLibrary::Collect(std::vector<MetricSnapshot>& out) const {
  unsigned int count = 0;
  if (get_count_(&count) != kNvmlSuccess) return;
  MetricSnapshot utilization{"cinfer_gpu_utilization_ratio",
                             "Fraction of the last sample period in which a kernel ran on the GPU.",
                             Type::kGauge,
                             {}};
  MetricSnapshot used{
      "cinfer_gpu_memory_used_bytes", "GPU memory in use, in bytes.", Type::kGauge, {}};
  MetricSnapshot total{"cinfer_gpu_memory_total_bytes", "GPU memory, in bytes.", Type::kGauge, {}};
  for (unsigned int i = 0; i < count; ++i) CollectDevice(i, utilization, used, total);
  for (MetricSnapshot* snapshot : {&utilization, &used, &total}) {
    if (!snapshot->samples.empty()) out.push_back(std::move(*snapshot));
  }
}

}  // namespace

MetricCollector ProcessCollector() { return CollectProcess; }

MetricCollector HostCollector(std::string data_dir) {
  return [data_dir = std::move(data_dir)](std::vector<MetricSnapshot>& out) {
    CollectHost(data_dir, out);
  };
}

MetricCollector GpuCollector() {
  void* handle = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) return nullptr;
  auto nvml = std::make_shared<NvmlLibrary>(handle);  // owns the handle from here
  if (!nvml->Init()) return nullptr;
  return [nvml](std::vector<MetricSnapshot>& out) { nvml->Collect(out); };
}

}  // namespace cinfer
