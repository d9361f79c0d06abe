// RETURN_IF_ERROR / ASSIGN_OR_RETURN: the one pair of status-propagation macros.
#pragma once

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define CINFER_STATUS_CONCAT_INNER(a, b) a##b
#define CINFER_STATUS_CONCAT(a, b) CINFER_STATUS_CONCAT_INNER(a, b)

#define RETURN_IF_ERROR(expr)                                   \
  do {                                                          \
    if (::absl::Status _cinfer_st = (expr); !_cinfer_st.ok()) { \
      return _cinfer_st;                                        \
    }                                                           \
  } while (0)

#define ASSIGN_OR_RETURN(lhs, expr) \
  CINFER_ASSIGN_OR_RETURN_IMPL(CINFER_STATUS_CONCAT(_cinfer_so_, __LINE__), lhs, expr)

#define CINFER_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.status();                \
  lhs = std::move(*tmp)
