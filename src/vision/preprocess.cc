#include "vision/preprocess.h"

namespace cinfer::vision {}  // namespace cinfer::vision
