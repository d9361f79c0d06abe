#include "models/model_validator.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "common/errors.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace cinfer {
namespace {

absl::Status Rejected(std::string_view reason) {
  return MakeError(ErrorCode::kModelRejected, reason);
}

constexpr size_t kMaxCapture = 1 << 20;

// Reads both pipes until EOF or the deadline. False on timeout.
bool Collect(int out_fd, int err_fd, std::chrono::steady_clock::time_point deadline,
             std::string* out, std::string* err) {
  pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
  int open = 2;
  char buf[65536];
  while (open > 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    int rc = ::poll(fds, 2, static_cast<int>(left.count()));
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) return rc == 0 ? false : true;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n <= 0) {
        fds[i].fd = -1;
        --open;
        continue;
      }
      std::string* dst = i == 0 ? out : err;
      if (dst->size() < kMaxCapture) dst->append(buf, static_cast<size_t>(n));
    }
  }
  return true;
}

std::string LastLines(const std::string& text, size_t max_chars) {
  std::string_view t = Trim(text);
  if (t.size() > max_chars) t = t.substr(t.size() - max_chars);
  return std::string(t);
}

// The child's command line: `<executable> model inspect <path>` and its flags.
std::vector<std::string> InspectArgs(const ModelValidator::Options& options,
                                     const std::string& path, const std::string& engine,
                                     const std::map<std::string, Shape>& shapes) {
  std::vector<std::string> args = {options.executable, "model", "inspect", path};
  if (!engine.empty()) args.insert(args.end(), {"--engine", engine});
  for (const auto& [name, shape] : shapes) {
    std::string dims;
    for (size_t i = 0; i < shape.size(); ++i) dims += StrCat(i ? "," : "", shape[i]);
    args.insert(args.end(), {"--shape", StrCat(name, "=", dims)});
  }
  if (!options.config_path.empty()) args.insert(args.end(), {"--config", options.config_path});
  return args;
}

// Runs in the forked child: only async-signal-safe calls until exec. It dies
// with the server (a kill -9 of the server would otherwise leave it running to
// its limits).
[[noreturn]] void ExecChild(pid_t parent, int out_fd, int err_fd, rlim_t mem, rlim_t cpu,
                            char** argv) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(127);
  ::dup2(out_fd, STDOUT_FILENO);
  ::dup2(err_fd, STDERR_FILENO);
  ::syscall(SYS_close_range, 3, ~0U, 0);
  rlimit core{0, 0};
  ::setrlimit(RLIMIT_CORE, &core);
  rlimit as{mem, mem};
#if !defined(__SANITIZE_ADDRESS__)  // AddressSanitizer needs terabytes of address space
  ::setrlimit(RLIMIT_AS, &as);
#else
  (void)as;
#endif
  rlimit cpu_limit{cpu, cpu + 1};
  ::setrlimit(RLIMIT_CPU, &cpu_limit);
  ::execv(argv[0], argv);
  ::_exit(127);
}

// How the child ended and what it wrote.
struct ChildResult {
  bool finished = false;  // false: the wall-clock timeout killed it
  int status = 0;         // from waitpid
  std::string out, err;
};

// Forks and execs `args` under the limits of `options`, collects its output
// until the timeout (killing it then) and reaps it.
absl::StatusOr<ChildResult> RunChild(const ModelValidator::Options& options,
                                     std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) return absl::InternalError("pipe failed");
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    return absl::InternalError("pipe failed");
  }
  const rlim_t mem = static_cast<rlim_t>(options.memory_limit_mb) << 20;
  const rlim_t cpu = static_cast<rlim_t>(options.cpu_limit_s);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) return absl::InternalError(StrCat("fork failed: ", strerror(errno)));
  if (pid == 0) ExecChild(parent, out_pipe[1], err_pipe[1], mem, cpu, argv.data());
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  ChildResult result;
  result.finished =
      Collect(out_pipe[0], err_pipe[0], std::chrono::steady_clock::now() + options.timeout,
              &result.out, &result.err);
  if (!result.finished) ::kill(pid, SIGKILL);
  ::close(out_pipe[0]);
  ::close(err_pipe[0]);
  while (::waitpid(pid, &result.status, 0) < 0 && errno == EINTR) {
  }
  return result;
}

// The rejection for a child killed by a signal: the CPU limit, or a crash
// (out of memory when its stderr says so).
absl::Status SignalRejection(const ModelValidator::Options& options, int sig,
                             const std::string& err) {
  if (sig == SIGXCPU || sig == SIGKILL) {
    return Rejected(StrCat("validation exceeded its CPU time limit of ", options.cpu_limit_s,
                           " s (the model hangs while loading or in its test inference)"));
  }
  std::string reason =
      StrCat("the model crashed the loader (signal ", sig, ", ", strsignal(sig), ")");
  if (err.find("bad_alloc") != std::string::npos || err.find("alloc") != std::string::npos) {
    reason += StrCat(" after exhausting the memory limit of ", options.memory_limit_mb, " MB");
  }
  return Rejected(StrCat(reason, err.empty() ? "" : ": ", LastLines(err, 300)));
}

// The rejection for the child's own {"error": ...} report.
absl::Status ReportedRejection(const ModelValidator::Options& options,
                               const nlohmann::json& error) {
  std::string message = error.value("message", "rejected");
  // The child's full text (a hidden detail when it held library internals).
  const bool has_detail = error.contains("detail") && error["detail"].is_string();
  const std::string detail = has_detail ? error["detail"].get<std::string>() : message;
  const std::string lower = ToLower(detail);
  if (lower.find("alloc") != std::string::npos || lower.find("memory") != std::string::npos) {
    message += StrCat(" (out of memory under the validation memory limit of ",
                      options.memory_limit_mb, " MB)");
  }
  if (has_detail) return WithHiddenDetail(Rejected(detail), message);
  return Rejected(message);
}

}  // namespace

absl::StatusOr<nlohmann::json> ModelValidator::Validate(
    const std::string& path, const std::string& engine,
    const std::map<std::string, Shape>& shapes) const {
  std::vector<std::string> args = InspectArgs(options_, path, engine, shapes);
  ASSIGN_OR_RETURN(ChildResult child, RunChild(options_, args));
  if (!child.finished) {
    return Rejected(StrCat("validation timed out after ", options_.timeout.count(),
                           " s (the model hangs while loading or in its test inference)"));
  }
  if (WIFSIGNALED(child.status)) {
    return SignalRejection(options_, WTERMSIG(child.status), child.err);
  }
  auto json = nlohmann::json::parse(child.out, nullptr, false);
  const int code = WIFEXITED(child.status) ? WEXITSTATUS(child.status) : -1;
  if (code == 0 && json.is_object() && json.contains("inputs")) return json;
  if (json.is_object() && json.contains("error")) return ReportedRejection(options_, json["error"]);
  return Rejected(StrCat("the validator exited with status ", code, child.err.empty() ? "" : ": ",
                         LastLines(child.err, 300)));
}

}  // namespace cinfer
