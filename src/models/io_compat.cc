#include "models/io_compat.h"

#include <map>
#include <optional>

#include "common/strings.h"

namespace cinfer {
namespace {

using Json = nlohmann::json;

struct TensorIo {
  std::string datatype;
  std::optional<std::vector<int64_t>> shape;  // -1: dynamic; nullopt: unknown
};

std::map<std::string, TensorIo> Tensors(const Json& io, const char* key) {
  std::map<std::string, TensorIo> out;
  if (!io.is_object() || !io.contains(key) || !io[key].is_array()) return out;
  for (const auto& t : io[key]) {
    if (!t.is_object() || !t.contains("name") || !t["name"].is_string()) continue;
    TensorIo tensor;
    if (t.contains("datatype") && t["datatype"].is_string()) tensor.datatype = t["datatype"];
    if (t.contains("shape") && t["shape"].is_array()) {
      std::vector<int64_t> dims;
      for (const auto& d : t["shape"])
        dims.push_back(d.is_number_integer() ? d.get<int64_t>() : -1);
      tensor.shape = std::move(dims);
    }
    out[t["name"].get<std::string>()] = std::move(tensor);
  }
  return out;
}

std::string ShapeText(const std::vector<int64_t>& shape) {
  std::vector<std::string> dims;
  for (int64_t d : shape) dims.push_back(d < 0 ? "?" : StrCat(d));
  return StrCat("[", Join(dims, ", "), "]");
}

void Compare(const char* kind, const std::string& name, const TensorIo& served,
             const TensorIo& next, bool input, std::vector<std::string>& out) {
  if (served.datatype != next.datatype) {
    out.push_back(
        StrCat(kind, " '", name, "' changes datatype ", served.datatype, " -> ", next.datatype));
  }
  if (!served.shape.has_value() || !next.shape.has_value()) return;
  const auto& a = *served.shape;
  const auto& b = *next.shape;
  if (a.size() != b.size()) {
    out.push_back(StrCat(kind, " '", name, "' changes rank ", a.size(), " -> ", b.size(), " (",
                         ShapeText(a), " -> ", ShapeText(b), ")"));
    return;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    const bool fixed_changed = a[i] >= 0 && b[i] >= 0 && a[i] != b[i];
    // An input that accepted any size must keep doing so; an output's
    // dimension becoming dynamic changes what clients receive.
    const bool narrowed = input ? a[i] < 0 && b[i] >= 0 : (a[i] < 0) != (b[i] < 0);
    if (fixed_changed || narrowed) {
      out.push_back(
          StrCat(kind, " '", name, "' changes shape ", ShapeText(a), " -> ", ShapeText(b)));
      return;
    }
  }
}

}  // namespace

std::vector<std::string> IoDifferences(const Json& served, const Json& candidate) {
  std::vector<std::string> out;
  const auto served_in = Tensors(served, "inputs");
  const auto next_in = Tensors(candidate, "inputs");
  for (const auto& [name, t] : served_in) {
    auto it = next_in.find(name);
    if (it == next_in.end()) {
      out.push_back(StrCat("input '", name, "' is missing"));
    } else {
      Compare("input", name, t, it->second, /*input=*/true, out);
    }
  }
  for (const auto& [name, t] : next_in) {
    if (!served_in.contains(name)) out.push_back(StrCat("input '", name, "' is new"));
  }
  const auto served_out = Tensors(served, "outputs");
  const auto next_out = Tensors(candidate, "outputs");
  for (const auto& [name, t] : served_out) {
    auto it = next_out.find(name);
    if (it == next_out.end()) {
      out.push_back(StrCat("output '", name, "' is missing"));
    } else {
      Compare("output", name, t, it->second, /*input=*/false, out);
    }
  }
  return out;
}

}  // namespace cinfer
