// Names the calling thread as `top -H`, `perf` and /proc/<pid>/task/*/comm show
// it (Linux keeps 15 characters; longer names are cut). Best effort: a
// failure changes nothing else.
#pragma once

#include <pthread.h>

#include <string>
#include <string_view>

namespace cinfer {

inline void SetCurrentThreadName(std::string_view name) {
  std::string cut(name.substr(0, 15));
  pthread_setname_np(pthread_self(), cut.c_str());
}

}  // namespace cinfer
