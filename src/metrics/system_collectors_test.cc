#include "metrics/system_collectors.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <ctime>
#include <future>
#include <limits>
#include <string_view>
#include <thread>
#include <vector>

#include "testing/temp_dir.h"

namespace cinfer {
namespace {

constexpr double kMissing = std::numeric_limits<double>::quiet_NaN();

std::vector<MetricSnapshot> Scrape(const MetricCollector& collector) {
  std::vector<MetricSnapshot> out;
  collector(out);
  return out;
}

// The snapshot named `name`, or null.
const MetricSnapshot* Find(const std::vector<MetricSnapshot>& snapshots, std::string_view name) {
  for (const MetricSnapshot& snapshot : snapshots) {
    if (snapshot.name == name) return &snapshot;
  }
  return nullptr;
}

// The value of the only sample of `name`; NaN (which fails every comparison)
// and a test failure when there is no such snapshot or it has other than one
// sample.
double Value(const std::vector<MetricSnapshot>& snapshots, std::string_view name) {
  const MetricSnapshot* snapshot = Find(snapshots, name);
  if (snapshot == nullptr) {
    ADD_FAILURE() << "no " << name;
    return kMissing;
  }
  if (snapshot->samples.size() != 1) {
    ADD_FAILURE() << name << " has " << snapshot->samples.size() << " samples";
    return kMissing;
  }
  return snapshot->samples[0].value;
}

double ProcessValue(std::string_view name) { return Value(Scrape(ProcessCollector()), name); }

// Burns `seconds` of this process's CPU time.
void BurnCpu(double seconds) {
  timespec start{}, now{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &start);
  volatile double sink = 0;
  do {
    for (int i = 0; i < 100000; ++i) sink = sink + std::sqrt(static_cast<double>(i));
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  } while ((now.tv_sec - start.tv_sec) + (now.tv_nsec - start.tv_nsec) / 1e9 < seconds);
}

TEST(ProcessCollectorTest, OpenFdsCountsAnOpenedFile) {
  const double before = ProcessValue("process_open_fds");
  int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  const double open_now = ProcessValue("process_open_fds");
  close(fd);
  const double after = ProcessValue("process_open_fds");
  EXPECT_GT(before, 0);
  EXPECT_EQ(open_now, before + 1);
  EXPECT_EQ(after, before);
  EXPECT_GE(ProcessValue("process_max_fds"), open_now);
}

TEST(ProcessCollectorTest, ThreadsCountsABlockedThread) {
  const double before = ProcessValue("process_threads");
  std::promise<void> release;
  std::thread thread([done = release.get_future()] { done.wait(); });
  const double during = ProcessValue("process_threads");
  release.set_value();
  thread.join();
  EXPECT_GE(before, 1);
  EXPECT_EQ(during, before + 1);
  EXPECT_EQ(ProcessValue("process_threads"), before);
}

TEST(ProcessCollectorTest, MemoryAndStartTime) {
  std::vector<MetricSnapshot> snapshots = Scrape(ProcessCollector());
  const double resident = Value(snapshots, "process_resident_memory_bytes");
  EXPECT_GT(resident, 0);
  EXPECT_GE(Value(snapshots, "process_virtual_memory_bytes"), resident);
  // btime has whole seconds: the start time may be off by one.
  const double now = static_cast<double>(std::time(nullptr));
  const double start = Value(snapshots, "process_start_time_seconds");
  EXPECT_LE(start, now + 1);
  EXPECT_GT(start, now - 24 * 3600);
}

TEST(ProcessCollectorTest, TypesAndHelp) {
  std::vector<MetricSnapshot> snapshots = Scrape(ProcessCollector());
  EXPECT_EQ(snapshots.size(), 7u);
  for (const MetricSnapshot& snapshot : snapshots) {
    EXPECT_FALSE(snapshot.help.empty()) << snapshot.name;
    const bool counter = snapshot.name == "process_cpu_seconds_total";
    EXPECT_EQ(snapshot.type,
              counter ? MetricSnapshot::Type::kCounter : MetricSnapshot::Type::kGauge)
        << snapshot.name;
  }
  ASSERT_NE(Find(snapshots, "process_cpu_seconds_total"), nullptr);
  EXPECT_EQ(Find(snapshots, "process_cpu_seconds_total")->help,
            "Total user and system CPU time spent in seconds.");
}

TEST(ProcessCollectorTest, CpuSecondsGrowWithWork) {
  MetricCollector collector = ProcessCollector();
  const double before = Value(Scrape(collector), "process_cpu_seconds_total");
  BurnCpu(0.1);
  const double after = Value(Scrape(collector), "process_cpu_seconds_total");
  EXPECT_GE(before, 0);
  EXPECT_GE(after, before);
  EXPECT_GT(after, before);  // 0.1 s of CPU is about 10 ticks
}

TEST(HostCollectorTest, MemoryTotalAtLeastAvailable) {
  testing::TempDir dir;
  std::vector<MetricSnapshot> snapshots = Scrape(HostCollector(dir.path()));
  const double total = Value(snapshots, "cinfer_host_memory_total_bytes");
  const double available = Value(snapshots, "cinfer_host_memory_available_bytes");
  EXPECT_GT(available, 0);
  EXPECT_GE(total, available);
}

TEST(HostCollectorTest, CpuModesAndCount) {
  testing::TempDir dir;
  std::vector<MetricSnapshot> snapshots = Scrape(HostCollector(dir.path()));
  EXPECT_GE(Value(snapshots, "cinfer_host_cpus"), 1);
  const MetricSnapshot* cpu = Find(snapshots, "cinfer_host_cpu_seconds_total");
  ASSERT_NE(cpu, nullptr);
  EXPECT_EQ(cpu->type, MetricSnapshot::Type::kCounter);
  ASSERT_EQ(cpu->samples.size(), 8u);
  const char* modes[] = {"user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"};
  double sum = 0;
  for (size_t i = 0; i < cpu->samples.size(); ++i) {
    ASSERT_EQ(cpu->samples[i].labels.size(), 1u);
    EXPECT_EQ(cpu->samples[i].labels[0].first, "mode");
    EXPECT_EQ(cpu->samples[i].labels[0].second, modes[i]);
    EXPECT_GE(cpu->samples[i].value, 0);
    sum += cpu->samples[i].value;
  }
  EXPECT_GT(sum, 0);
}

TEST(HostCollectorTest, DataDiskOfTempDir) {
  testing::TempDir dir;
  std::vector<MetricSnapshot> snapshots = Scrape(HostCollector(dir.path()));
  const double total = Value(snapshots, "cinfer_data_disk_total_bytes");
  const double free = Value(snapshots, "cinfer_data_disk_free_bytes");
  const double available = Value(snapshots, "cinfer_data_disk_available_bytes");
  EXPECT_GT(total, 0);
  EXPECT_GT(free, 0);
  EXPECT_GT(available, 0);
  EXPECT_LE(free, total);
  EXPECT_LE(available, free);
  const MetricSnapshot* disk = Find(snapshots, "cinfer_data_disk_total_bytes");
  ASSERT_NE(disk, nullptr);
  ASSERT_EQ(disk->samples.size(), 1u);
  using Labels = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(disk->samples[0].labels, (Labels{{"path", dir.path()}}));
}

TEST(HostCollectorTest, MissingDataDirLeavesDiskOut) {
  testing::TempDir dir;
  std::vector<MetricSnapshot> snapshots = Scrape(HostCollector(dir.File("missing")));
  EXPECT_EQ(Find(snapshots, "cinfer_data_disk_total_bytes"), nullptr);
  EXPECT_EQ(Find(snapshots, "cinfer_data_disk_free_bytes"), nullptr);
  EXPECT_EQ(Find(snapshots, "cinfer_data_disk_available_bytes"), nullptr);
  EXPECT_GT(Value(snapshots, "cinfer_host_memory_total_bytes"), 0);
  EXPECT_NE(Find(snapshots, "cinfer_host_cpu_seconds_total"), nullptr);
}

bool NvmlLoadable() {
  void* handle = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) return false;
  dlclose(handle);
  return true;
}

TEST(GpuCollectorTest, EmptyWithoutNvml) {
  if (NvmlLoadable()) GTEST_SKIP() << "libnvidia-ml.so.1 is present here";
  EXPECT_FALSE(GpuCollector());
}

// Runs only where NVML loads and initializes (a machine with a GPU driver).
TEST(GpuCollectorTest, ReportsEachDevice) {
  MetricCollector collector = GpuCollector();
  if (!collector) GTEST_SKIP() << "no NVML here";
  std::vector<MetricSnapshot> snapshots = Scrape(collector);
  const MetricSnapshot* utilization = Find(snapshots, "cinfer_gpu_utilization_ratio");
  const MetricSnapshot* used = Find(snapshots, "cinfer_gpu_memory_used_bytes");
  const MetricSnapshot* total = Find(snapshots, "cinfer_gpu_memory_total_bytes");
  ASSERT_NE(utilization, nullptr);
  ASSERT_NE(used, nullptr);
  ASSERT_NE(total, nullptr);
  ASSERT_EQ(used->samples.size(), total->samples.size());
  for (const MetricSample& sample : utilization->samples) {
    EXPECT_GE(sample.value, 0);
    EXPECT_LE(sample.value, 1);
  }
  for (size_t i = 0; i < total->samples.size(); ++i) {
    EXPECT_EQ(total->samples[i].labels[0],
              (std::pair<std::string, std::string>("gpu", std::to_string(i))));
    EXPECT_FALSE(total->samples[i].labels[1].second.empty());  // the name
    EXPECT_GT(total->samples[i].value, 0);
    EXPECT_LE(used->samples[i].value, total->samples[i].value);
  }
}

}  // namespace
}  // namespace cinfer
