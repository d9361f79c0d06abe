// Lowers the calling thread's scheduling priority: sets its nice value (Linux
// keeps one per thread) to `nice`, 1-19; 0 or less changes nothing. Raising
// it is always allowed; lowering it again later would need CAP_SYS_NICE.
// Threads it starts afterwards inherit it. False (errno set) when refused.
#pragma once

#include <sys/resource.h>
#include <unistd.h>

namespace cinfer {

inline bool LowerThisThreadsPriority(int nice) {
  if (nice <= 0) return true;
  return setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), nice) == 0;
}

}  // namespace cinfer
