#include "vision/postprocess.h"

namespace cinfer::vision {}  // namespace cinfer::vision
