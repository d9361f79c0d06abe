#include "vision/image.h"

namespace cinfer::vision {}  // namespace cinfer::vision
