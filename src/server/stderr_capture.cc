#include "server/stderr_capture.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

#include "common/strings.h"
#include "spdlog/sinks/ansicolor_sink.h"
#include "spdlog/spdlog.h"

namespace cinfer {
namespace {

// Lets through kBurst lines at once and kLinesPerSecond after that.
class LineBudget {
 public:
  bool Take() {
    const auto now = std::chrono::steady_clock::now();
    tokens_ = std::min<double>(StderrCapture::kBurst,
                               tokens_ + std::chrono::duration<double>(now - last_).count() *
                                             StderrCapture::kLinesPerSecond);
    last_ = now;
    if (tokens_ < 1) return false;
    tokens_ -= 1;
    return true;
  }

 private:
  double tokens_ = StderrCapture::kBurst;
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

}  // namespace

struct StderrCapture::State {
  int original = -1;  // the process's stderr before the capture
  int read_end = -1;
  std::thread reader;

  void Read() {
    LineBudget budget;
    long dropped = 0;
    std::string pending;
    char buf[4096];
    auto emit = [&](std::string_view line) {
      if (line.empty()) return;
      if (!budget.Take()) {
        ++dropped;
        return;
      }
      if (dropped > 0) {
        spdlog::warn("third-party library output: {} line(s) dropped (rate limit)", dropped);
        dropped = 0;
      }
      spdlog::warn("third-party library output: {}", EscapeForLog(line, 500));
    };
    while (true) {
      const ssize_t n = ::read(read_end, buf, sizeof(buf));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      pending.append(buf, static_cast<size_t>(n));
      size_t start = 0;
      for (size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
        emit(std::string_view(pending).substr(start, nl - start));
      }
      pending.erase(0, start);
      if (pending.size() > 4096) {  // a line without end: log it in pieces
        emit(pending);
        pending.clear();
      }
    }
    emit(pending);
    if (dropped > 0) spdlog::warn("third-party library output: {} line(s) dropped", dropped);
  }
};

StderrCapture::StderrCapture(std::unique_ptr<State> state) : state_(std::move(state)) {}

absl::StatusOr<std::unique_ptr<StderrCapture>> StderrCapture::Start() {
  auto s = std::make_unique<State>();
  s->original = ::fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
  if (s->original < 0) return absl::InternalError(StrCat("dup(stderr): ", strerror(errno)));
  FILE* log_file = ::fdopen(::fcntl(s->original, F_DUPFD_CLOEXEC, 3), "w");
  if (log_file == nullptr) return absl::InternalError(StrCat("fdopen: ", strerror(errno)));
  auto sink = std::make_shared<spdlog::sinks::ansicolor_sink<spdlog::details::console_mutex>>(
      log_file, spdlog::color_mode::automatic);
  auto logger = std::make_shared<spdlog::logger>("cinfer", std::move(sink));
  logger->set_level(spdlog::default_logger()->level());
  spdlog::set_default_logger(std::move(logger));
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return absl::InternalError(StrCat("pipe: ", strerror(errno)));
  ::dup2(fds[1], STDERR_FILENO);  // dup2 clears FD_CLOEXEC: children inherit the pipe
  ::close(fds[1]);
  s->read_end = fds[0];
  State* raw = s.get();
  s->reader = std::thread([raw] { raw->Read(); });
  return std::unique_ptr<StderrCapture>(new StderrCapture(std::move(s)));
}

StderrCapture::~StderrCapture() {
  std::fflush(stderr);
  ::dup2(state_->original, STDERR_FILENO);  // closes the pipe's last write end
  state_->reader.join();
  ::close(state_->read_end);
  ::close(state_->original);
}

}  // namespace cinfer
