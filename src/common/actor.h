// Actor: who performs an administrative action, for the audit log.
#pragma once

#include <string>

namespace cinfer {

struct Actor {
  std::string name;  // username, or "system"
  std::string id;    // user id; stored as created_by
  std::string ip;
};

}  // namespace cinfer
