// The thread-safety check proves itself (CMakeLists.txt, thread_safety_*): run
// through scripts/check_thread_safety.py --probe, this file passes; built with
// CINFER_UNGUARDED it reads a guarded member without its mutex, which the
// analysis must reject.
#include "absl/base/thread_annotations.h"
#include "common/mutex.h"

using cinfer::Mutex;
using cinfer::MutexLock;

class Counter {
 public:
  void Add() {
    MutexLock lock(&mu_);
    ++n_;
  }
#ifdef CINFER_UNGUARDED
  int Peek() { return n_; }
#else
  int Peek() {
    MutexLock lock(&mu_);
    return n_;
  }
#endif

 private:
  Mutex mu_;
  int n_ ABSL_GUARDED_BY(mu_) = 0;
};

int main() {
  Counter c;
  c.Add();
  return c.Peek() == 1 ? 0 : 1;
}
