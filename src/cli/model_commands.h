// `cinfer model inspect | validate | run | bench`: command-line access to the
// engine layer (like trtexec), used by users, tests, the isolated validator
// (inspect runs in its child) and benchmarks.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "CLI/CLI.hpp"
#include "config/config.h"

namespace cinfer::cli {

using ConfigLoader = std::function<std::optional<Config>(const std::string& path)>;

// Adds the `model` subcommand tree to `app`. After parsing, call the returned
// function: it runs the chosen command and returns the exit code, or nullopt
// when no model command was chosen.
std::function<std::optional<int>()> AddModelCommands(CLI::App& app, ConfigLoader load_config,
                                                     std::string executable);

}  // namespace cinfer::cli
