#include "models/model_config.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <span>
#include <type_traits>
#include <utility>

#include "common/errors.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace cinfer {
namespace {

using Json = nlohmann::json;

constexpr int64_t kMaxSide = 16384;
constexpr size_t kMaxLabels = 100000;
constexpr double kInf = std::numeric_limits<double>::infinity();

template <class E>
using NameEntry = std::pair<std::string_view, E>;
template <class E>
using NameTable = std::span<const NameEntry<E>>;

constexpr NameEntry<ResizeMode> kResizeModes[] = {{"stretch", ResizeMode::kStretch},
                                                  {"letterbox", ResizeMode::kLetterbox},
                                                  {"center_crop", ResizeMode::kCenterCrop}};
constexpr NameEntry<ColorOrder> kColorOrders[] = {{"rgb", ColorOrder::kRgb},
                                                  {"bgr", ColorOrder::kBgr}};
constexpr NameEntry<Layout> kLayouts[] = {{"nchw", Layout::kNchw}, {"nhwc", Layout::kNhwc}};
constexpr NameEntry<Task> kTasks[] = {{"raw", Task::kRaw},
                                      {"classification", Task::kClassification},
                                      {"detection", Task::kDetection},
                                      {"text_detection", Task::kTextDetection}};
constexpr NameEntry<DetectionLayout> kDetectionLayouts[] = {{"yolov5", DetectionLayout::kYoloV5},
                                                            {"yolov8", DetectionLayout::kYoloV8}};

// The output fields that only one task accepts; "task" and "tensor" are common.
constexpr NameEntry<Task> kTaskFields[] = {
    {"labels", Task::kClassification},          {"top_k", Task::kClassification},
    {"softmax", Task::kClassification},         {"layout", Task::kDetection},
    {"score_threshold", Task::kDetection},      {"iou_threshold", Task::kDetection},
    {"max_detections", Task::kDetection},       {"class_names", Task::kDetection},
    {"binary_threshold", Task::kTextDetection}, {"box_threshold", Task::kTextDetection},
    {"unclip_ratio", Task::kTextDetection},     {"max_candidates", Task::kTextDetection},
    {"min_size", Task::kTextDetection}};

template <class E>
std::string_view NameOf(std::type_identity_t<NameTable<E>> table, E value) {
  for (const auto& [name, v] : table) {
    if (v == value) return name;
  }
  return "?";
}

// A 422 naming the field in its message and in error.details.field (the
// console shows it beside that field).
absl::Status Bad(std::string_view field, std::string_view why) {
  return FieldValidationError(field, StrCat("config field '", field, "' ", why));
}

// Readers: each reads obj[key] (path prefix + key in errors) into *out and
// leaves *out alone when the key is absent.
absl::Status ReadInt(const Json& obj, std::string_view prefix, const char* key, int64_t min,
                     int64_t max, int64_t* out) {
  auto it = obj.find(key);
  if (it == obj.end()) return absl::OkStatus();
  const bool in_range = it->is_number_integer() &&
                        (it->is_number_unsigned() ? it->get<uint64_t>() <= uint64_t(max)
                                                  : it->get<int64_t>() <= max) &&
                        it->get<int64_t>() >= min;
  if (!in_range) {
    return Bad(StrCat(prefix, key), StrCat("must be an integer between ", min, " and ", max));
  }
  *out = it->get<int64_t>();
  return absl::OkStatus();
}

// A number (integer or not) in [min, max], or in (min, max] when `open_min`.
absl::Status ReadNumber(const Json& obj, std::string_view prefix, const char* key, double min,
                        double max, bool open_min, double* out) {
  auto it = obj.find(key);
  if (it == obj.end()) return absl::OkStatus();
  const double v = it->is_number() ? it->get<double>() : std::nan("");
  if (std::isfinite(v) && (open_min ? v > min : v >= min) && v <= max) {
    *out = v;
    return absl::OkStatus();
  }
  return Bad(StrCat(prefix, key), max == kInf
                                      ? StrCat("must be a number greater than ", min)
                                      : StrCat("must be a number between ", min, " and ", max));
}

absl::Status ReadBool(const Json& obj, std::string_view prefix, const char* key, bool* out) {
  auto it = obj.find(key);
  if (it == obj.end()) return absl::OkStatus();
  if (!it->is_boolean()) return Bad(StrCat(prefix, key), "must be true or false");
  *out = it->get<bool>();
  return absl::OkStatus();
}

absl::Status ReadString(const Json& obj, std::string_view prefix, const char* key,
                        std::string* out) {
  auto it = obj.find(key);
  if (it == obj.end()) return absl::OkStatus();
  if (!it->is_string()) return Bad(StrCat(prefix, key), "must be a string");
  *out = it->get<std::string>();
  return absl::OkStatus();
}

template <class E>
absl::Status ReadEnum(const Json& obj, std::string_view prefix, const char* key,
                      std::type_identity_t<NameTable<E>> table, E* out) {
  auto it = obj.find(key);
  if (it == obj.end()) return absl::OkStatus();
  std::vector<std::string> quoted;
  for (const auto& [name, value] : table) {
    if (it->is_string() && it->get_ref<const std::string&>() == name) {
      *out = value;
      return absl::OkStatus();
    }
    quoted.push_back(StrCat("\"", name, "\""));
  }
  return Bad(StrCat(prefix, key), StrCat("must be one of ", Join(quoted, ", ")));
}

// Three numbers, each > 0 when `positive`.
absl::Status ReadTriple(const Json& obj, std::string_view prefix, const char* key, bool positive,
                        std::array<double, 3>* out) {
  auto it = obj.find(key);
  if (it == obj.end()) return absl::OkStatus();
  std::array<double, 3> v{};
  bool ok = it->is_array() && it->size() == 3;
  for (size_t i = 0; ok && i < 3; ++i) {
    v[i] = (*it)[i].is_number() ? (*it)[i].get<double>() : std::nan("");
    ok = std::isfinite(v[i]) && (!positive || v[i] > 0);
  }
  if (!ok) {
    return Bad(StrCat(prefix, key), positive ? "must be a list of 3 numbers greater than 0"
                                             : "must be a list of 3 numbers");
  }
  *out = v;
  return absl::OkStatus();
}

absl::Status ReadStrings(const Json& obj, std::string_view prefix, const char* key,
                         std::vector<std::string>* out) {
  auto it = obj.find(key);
  if (it == obj.end()) return absl::OkStatus();
  const bool ok = it->is_array() && it->size() <= kMaxLabels &&
                  std::all_of(it->begin(), it->end(), [](const Json& s) { return s.is_string(); });
  if (!ok) {
    return Bad(StrCat(prefix, key), StrCat("must be a list of at most ", kMaxLabels, " strings"));
  }
  *out = it->get<std::vector<std::string>>();
  return absl::OkStatus();
}

absl::Status OnlyKnown(const Json& obj, std::string_view prefix,
                       std::initializer_list<std::string_view> known) {
  for (const auto& [key, value] : obj.items()) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      return FieldValidationError(StrCat(prefix, key),
                                  StrCat("unknown config field '", prefix, key, "'"));
    }
  }
  return absl::OkStatus();
}

absl::Status ParseInputShapes(const Json& j, ModelConfig* c) {
  if (!j.is_object()) return Bad("input_shapes", "must map input names to shapes");
  for (const auto& [name, dims] : j.items()) {
    const std::string path = StrCat("input_shapes.", name);
    if (!dims.is_array() || dims.empty()) {
      return Bad(path, "must be a non-empty list of dimensions");
    }
    Shape shape;
    for (const auto& d : dims) {
      if (!d.is_number_integer() || d.get<int64_t>() <= 0 ||
          d.get<int64_t>() > (int64_t{1} << 31)) {
        return Bad(path, "dimensions must be positive integers");
      }
      shape.push_back(d.get<int64_t>());
    }
    c->input_shapes[name] = std::move(shape);
  }
  return absl::OkStatus();
}

// "BOOL", "UINT8", ..., "FP64": the names input.dtype accepts.
std::string DataTypeNames() {
  std::vector<std::string> names;
  for (int t = 0; t <= static_cast<int>(DataType::kFp64); ++t) {
    names.push_back(StrCat("\"", DataTypeName(static_cast<DataType>(t)), "\""));
  }
  return Join(names, ", ");
}

absl::Status ParseInputSpec(const Json& j, InputSpec* in) {
  constexpr std::string_view p = "input.";
  RETURN_IF_ERROR(OnlyKnown(j, p,
                            {"tensor", "width", "height", "resize", "pad_value", "color", "scale",
                             "mean", "std", "layout", "dtype"}));
  RETURN_IF_ERROR(ReadString(j, p, "tensor", &in->tensor));
  RETURN_IF_ERROR(ReadInt(j, p, "width", 0, kMaxSide, &in->width));
  RETURN_IF_ERROR(ReadInt(j, p, "height", 0, kMaxSide, &in->height));
  RETURN_IF_ERROR(ReadEnum(j, p, "resize", kResizeModes, &in->resize));
  int64_t pad = in->pad_value;
  RETURN_IF_ERROR(ReadInt(j, p, "pad_value", 0, 255, &pad));
  in->pad_value = static_cast<int>(pad);
  RETURN_IF_ERROR(ReadEnum(j, p, "color", kColorOrders, &in->color));
  RETURN_IF_ERROR(ReadNumber(j, p, "scale", 0, kInf, /*open_min=*/true, &in->scale));
  RETURN_IF_ERROR(ReadTriple(j, p, "mean", /*positive=*/false, &in->mean));
  RETURN_IF_ERROR(ReadTriple(j, p, "std", /*positive=*/true, &in->std));
  if (auto it = j.find("layout"); it != j.end() && !it->is_null()) {
    Layout layout = Layout::kNchw;
    RETURN_IF_ERROR(ReadEnum(j, p, "layout", kLayouts, &layout));
    in->layout = layout;
  }
  if (auto it = j.find("dtype"); it != j.end() && !it->is_null()) {
    auto dtype = it->is_string() ? DataTypeFromName(it->get<std::string>()) : std::nullopt;
    if (!dtype) return Bad("input.dtype", StrCat("must be one of ", DataTypeNames()));
    in->dtype = dtype;
  }
  return absl::OkStatus();
}

// Unknown output fields, then fields that belong to another task than `task`.
absl::Status CheckOutputFields(const Json& j, Task task) {
  for (const auto& [key, value] : j.items()) {
    if (key == "task" || key == "tensor") continue;
    auto field = std::find_if(std::begin(kTaskFields), std::end(kTaskFields),
                              [&k = key](const auto& f) { return f.first == k; });
    if (field == std::end(kTaskFields)) {
      return FieldValidationError(StrCat("output.", key),
                                  StrCat("unknown config field 'output.", key, "'"));
    }
    if (field->second != task) {
      return Bad(StrCat("output.", key),
                 StrCat("applies to task ", NameOf(kTasks, field->second), " only"));
    }
  }
  return absl::OkStatus();
}

absl::Status ParseOutputSpec(const Json& j, OutputSpec* out) {
  constexpr std::string_view p = "output.";
  RETURN_IF_ERROR(ReadEnum(j, p, "task", kTasks, &out->task));
  RETURN_IF_ERROR(CheckOutputFields(j, out->task));
  RETURN_IF_ERROR(ReadString(j, p, "tensor", &out->tensor));
  RETURN_IF_ERROR(ReadStrings(j, p, "labels", &out->labels));
  RETURN_IF_ERROR(ReadInt(j, p, "top_k", 1, 1000, &out->top_k));
  RETURN_IF_ERROR(ReadBool(j, p, "softmax", &out->softmax));
  RETURN_IF_ERROR(ReadEnum(j, p, "layout", kDetectionLayouts, &out->layout));
  RETURN_IF_ERROR(ReadNumber(j, p, "score_threshold", 0, 1, false, &out->score_threshold));
  RETURN_IF_ERROR(ReadNumber(j, p, "iou_threshold", 0, 1, false, &out->iou_threshold));
  RETURN_IF_ERROR(ReadInt(j, p, "max_detections", 1, 100000, &out->max_detections));
  RETURN_IF_ERROR(ReadStrings(j, p, "class_names", &out->class_names));
  RETURN_IF_ERROR(ReadNumber(j, p, "binary_threshold", 0, 1, false, &out->binary_threshold));
  RETURN_IF_ERROR(ReadNumber(j, p, "box_threshold", 0, 1, false, &out->box_threshold));
  RETURN_IF_ERROR(ReadNumber(j, p, "unclip_ratio", 0.5, 10, false, &out->unclip_ratio));
  RETURN_IF_ERROR(ReadInt(j, p, "max_candidates", 1, 100000, &out->max_candidates));
  RETURN_IF_ERROR(ReadInt(j, p, "min_size", 0, 10000, &out->min_size));
  return absl::OkStatus();
}

Json InputSpecToJson(const InputSpec& in) {
  return {{"tensor", in.tensor},
          {"width", in.width},
          {"height", in.height},
          {"resize", NameOf(kResizeModes, in.resize)},
          {"pad_value", in.pad_value},
          {"color", NameOf(kColorOrders, in.color)},
          {"scale", in.scale},
          {"mean", in.mean},
          {"std", in.std},
          {"layout", in.layout ? Json(NameOf(kLayouts, *in.layout)) : Json(nullptr)},
          {"dtype", in.dtype ? Json(DataTypeName(*in.dtype)) : Json(nullptr)}};
}

Json OutputSpecToJson(const OutputSpec& out) {
  Json j = {{"task", NameOf(kTasks, out.task)}, {"tensor", out.tensor}};
  switch (out.task) {
    case Task::kRaw:
      break;
    case Task::kClassification:
      j.update({{"labels", out.labels}, {"top_k", out.top_k}, {"softmax", out.softmax}});
      break;
    case Task::kDetection:
      j.update({{"layout", NameOf(kDetectionLayouts, out.layout)},
                {"score_threshold", out.score_threshold},
                {"iou_threshold", out.iou_threshold},
                {"max_detections", out.max_detections},
                {"class_names", out.class_names}});
      break;
    case Task::kTextDetection:
      j.update({{"binary_threshold", out.binary_threshold},
                {"box_threshold", out.box_threshold},
                {"unclip_ratio", out.unclip_ratio},
                {"max_candidates", out.max_candidates},
                {"min_size", out.min_size}});
      break;
  }
  return j;
}

// --- ApplyIoDefaults ---

// The well-formed entries (objects with a string "name") of io_schema[key].
std::vector<const Json*> SchemaTensors(const Json& io_schema, const char* key) {
  std::vector<const Json*> out;
  if (!io_schema.is_object()) return out;
  auto list = io_schema.find(key);
  if (list == io_schema.end() || !list->is_array()) return out;
  for (const auto& t : *list) {
    if (t.is_object() && t.contains("name") && t["name"].is_string()) out.push_back(&t);
  }
  return out;
}

// Checks `*tensor` names one of `tensors`, or sets it to the first one when
// empty and `fill`. Returns the entry named, or null (none listed / empty name).
absl::StatusOr<const Json*> ResolveTensor(const std::vector<const Json*>& tensors,
                                          std::string_view field, std::string_view kind, bool fill,
                                          std::string* tensor) {
  if (tensors.empty()) return nullptr;
  if (tensor->empty()) {
    if (!fill) return nullptr;
    *tensor = (*tensors[0])["name"].get<std::string>();
    return tensors[0];
  }
  std::vector<std::string> names;
  for (const Json* t : tensors) {
    names.push_back((*t)["name"].get<std::string>());
    if (names.back() == *tensor) return t;
  }
  return Bad(field, StrCat("names '", *tensor, "', which is not an ", kind, " of the model (", kind,
                           "s: ", Join(names, ", "), ")"));
}

// The schema's shape of an entry; empty when absent, null or malformed.
Shape SchemaShape(const Json& entry) {
  Shape shape;
  auto it = entry.find("shape");
  if (it == entry.end() || !it->is_array()) return shape;
  for (const auto& d : *it) {
    if (!d.is_number_integer()) return {};
    shape.push_back(d.get<int64_t>());
  }
  return shape;
}

// Layout and size from a rank-4 shape: [N,3,H,W] is NCHW, [N,H,W,3] NHWC
// (unless `layout` was given); unknown (<= 0) dimensions fill nothing.
void ApplyShape(const Shape& s, InputSpec* in) {
  if (s.size() != 4) return;
  if (!in->layout) {
    if (s[1] == 3) {
      in->layout = Layout::kNchw;
    } else if (s[3] == 3) {
      in->layout = Layout::kNhwc;
    } else {
      return;
    }
  }
  const bool nchw = *in->layout == Layout::kNchw;
  const int64_t h = nchw ? s[2] : s[1];
  const int64_t w = nchw ? s[3] : s[2];
  if (in->height == 0 && h > 0 && h <= kMaxSide) in->height = h;
  if (in->width == 0 && w > 0 && w <= kMaxSide) in->width = w;
}

}  // namespace

absl::StatusOr<ModelConfig> ParseModelConfig(const Json& j) {
  if (!j.is_object()) return ValidationError("config must be a JSON object");
  RETURN_IF_ERROR(OnlyKnown(j, "",
                            {"input_shapes", "max_batch_size", "instances", "warmup_iterations",
                             "engine_options", "dynamic_batching", "input", "output"}));
  ModelConfig c;
  if (auto it = j.find("input_shapes"); it != j.end()) RETURN_IF_ERROR(ParseInputShapes(*it, &c));
  RETURN_IF_ERROR(ReadInt(j, "", "max_batch_size", 0, 4096, &c.max_batch_size));
  RETURN_IF_ERROR(ReadInt(j, "", "instances", 0, 64, &c.instances));
  RETURN_IF_ERROR(ReadInt(j, "", "warmup_iterations", 0, 1000, &c.warmup_iterations));
  if (auto it = j.find("engine_options"); it != j.end()) {
    if (!it->is_object()) return Bad("engine_options", "must be an object");
    RETURN_IF_ERROR(OnlyKnown(*it, "engine_options.", {"threads", "performance_hint", "streams"}));
    RETURN_IF_ERROR(ReadInt(*it, "engine_options.", "threads", 0, 256, &c.threads));
    RETURN_IF_ERROR(ReadString(*it, "engine_options.", "performance_hint", &c.performance_hint));
    if (!c.performance_hint.empty() && c.performance_hint != "latency" &&
        c.performance_hint != "throughput") {
      return Bad("engine_options.performance_hint", "must be one of \"latency\", \"throughput\"");
    }
    RETURN_IF_ERROR(ReadInt(*it, "engine_options.", "streams", 0, 256, &c.streams));
  }
  if (auto it = j.find("dynamic_batching"); it != j.end()) {
    if (!it->is_object()) return Bad("dynamic_batching", "must be an object");
    RETURN_IF_ERROR(OnlyKnown(*it, "dynamic_batching.", {"max_queue_delay_us"}));
    RETURN_IF_ERROR(ReadInt(*it, "dynamic_batching.", "max_queue_delay_us", 0, 10'000'000,
                            &c.max_queue_delay_us));
  }
  if (auto it = j.find("input"); it != j.end()) {
    if (!it->is_object()) return Bad("input", "must be an object");
    RETURN_IF_ERROR(ParseInputSpec(*it, &c.input));
  }
  if (auto it = j.find("output"); it != j.end()) {
    if (!it->is_object()) return Bad("output", "must be an object");
    RETURN_IF_ERROR(ParseOutputSpec(*it, &c.output));
  }
  return c;
}

absl::StatusOr<ModelConfig> ParseModelConfigText(std::string_view text) {
  if (Trim(text).empty()) return ModelConfig{};
  auto json = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return ValidationError("config is not valid JSON");
  return ParseModelConfig(json);
}

// The OpenVINO keys appear only when set, so configs of other engines read as before.
Json EngineOptionsToJson(const ModelConfig& c) {
  Json o = {{"threads", c.threads}};
  if (!c.performance_hint.empty()) o["performance_hint"] = c.performance_hint;
  if (c.streams != 0) o["streams"] = c.streams;
  return o;
}

Json ModelConfigToJson(const ModelConfig& c) {
  Json shapes = Json::object();
  for (const auto& [name, shape] : c.input_shapes) shapes[name] = shape;
  return {{"input_shapes", shapes},
          {"max_batch_size", c.max_batch_size},
          {"instances", c.instances},
          {"warmup_iterations", c.warmup_iterations},
          {"engine_options", EngineOptionsToJson(c)},
          {"dynamic_batching", {{"max_queue_delay_us", c.max_queue_delay_us}}},
          {"input", InputSpecToJson(c.input)},
          {"output", OutputSpecToJson(c.output)}};
}

absl::Status ApplyIoDefaults(const Json& io_schema, ModelConfig* config) {
  InputSpec& in = config->input;
  ASSIGN_OR_RETURN(const Json* input, ResolveTensor(SchemaTensors(io_schema, "inputs"),
                                                    "input.tensor", "input", true, &in.tensor));
  OutputSpec& out = config->output;
  RETURN_IF_ERROR(ResolveTensor(SchemaTensors(io_schema, "outputs"), "output.tensor", "output",
                                out.task != Task::kRaw, &out.tensor)
                      .status());
  if (input != nullptr) {
    auto fixed = config->input_shapes.find(in.tensor);
    ApplyShape(fixed != config->input_shapes.end() ? fixed->second : SchemaShape(*input), &in);
    auto type = input->find("datatype");
    if (!in.dtype && type != input->end() && type->is_string()) {
      in.dtype = DataTypeFromName(type->get<std::string>());
    }
  }
  if (!in.layout) in.layout = Layout::kNchw;
  return absl::OkStatus();
}

}  // namespace cinfer
