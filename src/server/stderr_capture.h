// StderrCapture: while it lives, file descriptor 2 is a pipe that a thread of
// its own reads. Libraries that print straight to stderr (libpng and libjpeg
// warnings through OpenCV, ONNX Runtime) then reach the log like everything
// else: one spdlog warning per line, escaped (their text can quote bytes of
// a client's file) and rate-limited (kBurst lines, then kLinesPerSecond; the
// number of dropped lines is logged). The default spdlog logger is moved to
// the original stderr first, so the service's own log is unchanged.
// Construct once, in the serving process only; not thread-safe itself.
#pragma once

#include <memory>

#include "absl/status/statusor.h"

namespace cinfer {

class StderrCapture {
 public:
  static constexpr int kBurst = 50;
  static constexpr int kLinesPerSecond = 10;

  static absl::StatusOr<std::unique_ptr<StderrCapture>> Start();
  // Puts the original stderr back and joins the reader.
  ~StderrCapture();
  StderrCapture(const StderrCapture&) = delete;
  StderrCapture& operator=(const StderrCapture&) = delete;

 private:
  struct State;
  explicit StderrCapture(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace cinfer
