#include "scheduling/model_scheduler.h"

namespace cinfer {}  // namespace cinfer
