// The build's layering check (CMakeLists.txt, cinfer_exports): this file links only
// cinfer_engines. Built with CINFER_UPWARD it includes a header of a higher layer (http),
// which must fail to compile; without it, it includes its own layer and must build.
#ifdef CINFER_UPWARD
#include "http/router.h"
#else
#include "engines/tensor.h"
#endif

int main() { return 0; }
