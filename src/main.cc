// cinfer: parses the command line and configuration, builds the Application
// (the composition root) and runs the chosen command.
#include <termios.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <optional>
#include <string>

#include "CLI/CLI.hpp"
#include "cinfer_version.h"
#include "cli/model_commands.h"
#include "config/runtime_config.h"
#include "nlohmann/json.hpp"
#include "server/application.h"
#include "server/json_log_formatter.h"
#include "server/offline_tools.h"
#include "server/stderr_capture.h"
#include "spdlog/sinks/stdout_color_sinks.h"
#include "spdlog/spdlog.h"

extern char** environ;

namespace cinfer {
namespace {

Environment ProcessEnvironment() {
  Environment env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view kv(*e);
    size_t eq = kv.find('=');
    if (eq != std::string_view::npos) env.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
  }
  return env;
}

std::string ExecutablePath() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("cinfer") : exe.string();
}

std::string ExecutableDir() {
  return std::filesystem::path(ExecutablePath()).parent_path().string();
}

// The configuration with its runtime override file (<data_dir>/config-override.yaml).
std::unique_ptr<RuntimeConfig> LoadRuntimeOrReport(const std::string& config_path) {
  auto runtime = RuntimeConfig::Load(
      {config_path.empty() ? std::nullopt : std::optional(config_path), ProcessEnvironment()});
  if (!runtime.ok()) {
    std::cerr << "cinfer: configuration error: " << runtime.status().message() << "\n";
    return nullptr;
  }
  spdlog::set_level(spdlog::level::from_str((*runtime)->Current()->server.log_level));
  return *std::move(runtime);
}

std::optional<Config> LoadOrReport(const std::string& config_path) {
  auto runtime = LoadRuntimeOrReport(config_path);
  if (runtime == nullptr) return std::nullopt;
  return *runtime->Current();
}

std::optional<std::string> ReadPassword() {
  std::string first;
  if (!isatty(STDIN_FILENO)) {
    if (!std::getline(std::cin, first)) return std::nullopt;
    if (!first.empty() && first.back() == '\r') first.pop_back();
    return first;
  }
  termios old{};
  tcgetattr(STDIN_FILENO, &old);
  termios quiet = old;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  std::string second;
  std::cerr << "New password: ";
  std::getline(std::cin, first);
  std::cerr << "\nRepeat: ";
  std::getline(std::cin, second);
  std::cerr << "\n";
  tcsetattr(STDIN_FILENO, TCSANOW, &old);
  if (first != second) {
    std::cerr << "cinfer: passwords differ\n";
    return std::nullopt;
  }
  return first;
}

int Serve(const std::string& config_path) {
  auto config = LoadRuntimeOrReport(config_path);
  if (config == nullptr) return 2;
  // Decoder and engine messages written to stderr go through the log, escaped.
  auto capture = StderrCapture::Start();
  // After the capture replaced the default logger.
  if (config->Current()->server.log_format == "json") UseJsonLogs();
  if (!capture.ok()) spdlog::warn("stderr is not captured: {}", capture.status().ToString());
  auto app = Application::Create(
      std::move(config), {.executable_dir = ExecutableDir(), .executable = ExecutablePath()});
  if (!app.ok()) {
    spdlog::critical("startup failed: {}", app.status().ToString());
    return 1;
  }
  absl::Status st = (*app)->Serve();
  if (!st.ok()) {
    spdlog::critical("server failed: {}", st.ToString());
    return 1;
  }
  return 0;
}

int Routes() {
  auto routes = ListRoutes();
  if (!routes.ok()) {
    std::cerr << "cinfer: " << routes.status().ToString() << "\n";
    return 1;
  }
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : *routes) {
    nlohmann::json j = {{"method", r.method}, {"path", r.pattern}, {"auth", r.auth}};
    if (!r.role.empty()) j["role"] = r.role;
    out.push_back(std::move(j));
  }
  std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  return 0;
}

int ResetPassword(const std::string& config_path, const std::string& username) {
  auto config = LoadRuntimeOrReport(config_path);
  if (config == nullptr) return 2;
  auto password = ReadPassword();
  if (!password) {
    std::cerr << "cinfer: no password given on standard input\n";
    return 1;
  }
  absl::Status st = ResetAdminPassword(*config->Current(), username, *password);
  if (!st.ok()) {
    std::cerr << "cinfer: " << st.message() << "\n";
    return 1;
  }
  std::cout << "password of '" << username << "' reset; all of its sessions are revoked\n";
  return 0;
}

int Backup(const std::string& config_path, const std::string& output_dir) {
  auto config = LoadRuntimeOrReport(config_path);
  if (config == nullptr) return 2;
  auto backup = BackupDataDir(*config->Current(), output_dir);
  if (!backup.ok()) {
    std::cerr << "cinfer: backup failed: " << backup.status().message() << "\n";
    return 1;
  }
  nlohmann::json summary = {{"output", backup->output},
                            {"files", backup->files},
                            {"bytes", backup->bytes},
                            {"db_pages", backup->db_pages},
                            {"ms", backup->ms}};
  std::cout << summary.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  return 0;
}

}  // namespace
}  // namespace cinfer

int main(int argc, char** argv) {
  // ONNX Runtime 1.29 on Linux starts a 1DS telemetry client (files under /tmp
  // and ~/.cache, DNS lookups of a Microsoft host) unless this is set before it
  // initialises. Set here, whatever the caller's environment says, so it holds
  // for this process and every child it starts (the model validator).
  ::setenv("ORT_DISABLE_TELEMETRY", "1", 1);
  spdlog::set_default_logger(spdlog::stderr_color_mt("cinfer"));
  CLI::App app{"Cinfer: a vision AI inference server"};
  app.require_subcommand(1);
  std::string config_path;
  std::string username;
  std::string output_dir;

  auto* serve = app.add_subcommand("serve", "Start the HTTP server");
  serve->add_option("-c,--config", config_path, "YAML configuration file");
  app.add_subcommand("version", "Print the version and build");
  auto* routes = app.add_subcommand("routes", "Print the served routes as JSON");
  routes->add_option("-c,--config", config_path,
                     "Accepted for compatibility: the routes do not depend on it");
  auto* admin = app.add_subcommand("admin", "Offline administration");
  admin->require_subcommand(1);
  auto* reset = admin->add_subcommand(
      "reset-password", "Set an admin's password (read from stdin) and revoke its sessions");
  reset->add_option("-u,--username", username, "The admin's username")->required();
  reset->add_option("-c,--config", config_path, "YAML configuration file");
  auto* backup = admin->add_subcommand(
      "backup", "Copy the database, model files and secrets into a new directory, while serving");
  backup->add_option("-o,--output", output_dir, "A new or empty directory")->required();
  backup->add_option("-c,--config", config_path, "YAML configuration file");

  auto model_command = cinfer::cli::AddModelCommands(
      app, [](const std::string& path) { return cinfer::LoadOrReport(path); },
      cinfer::ExecutablePath());

  CLI11_PARSE(app, argc, argv);
  if (auto rc = model_command()) return *rc;
  if (serve->parsed()) return cinfer::Serve(config_path);
  if (routes->parsed()) return cinfer::Routes();
  if (reset->parsed()) return cinfer::ResetPassword(config_path, username);
  if (backup->parsed()) return cinfer::Backup(config_path, output_dir);
  std::cout << "cinfer " << CINFER_VERSION << " (" << CINFER_GIT_COMMIT << ", " << CINFER_BUILD_TYPE
            << ")\n";
  return 0;
}
