#include "models/model_bundle.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <set>
#include <utility>

#include "common/status_macros.h"
#include "common/strings.h"
#include "engines/onnx_proto.h"
#include "models/model_archive.h"

namespace cinfer {
namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxFolderFiles = 1000;

absl::Status Bad(std::string_view message) { return absl::InvalidArgumentError(ToAbsl(message)); }
std::string Quoted(std::string_view name) { return StrCat("'", EscapeForLog(name, 300), "'"); }

enum class Kind { kExtra, kOnnx, kTorchScript, kIr, kPaddleProto, kPaddleJson, kOther };

struct Found {
  std::string rel;  // relative to the folder
  Kind kind = Kind::kOther;
};

bool IsExtra(const fs::path& rel) {
  for (const auto& part : rel) {
    if (part == "__MACOSX") return true;
  }
  const std::string base = rel.filename().string(), lower = ToLower(base);
  static constexpr std::string_view kSuffixes[] = {".txt",  ".md",      ".yml",
                                                   ".yaml", ".mapping", ".pdiparams.info"};
  return base == ".DS_Store" || base.starts_with("._") || lower.starts_with("readme") ||
         lower.starts_with("license") ||
         std::any_of(std::begin(kSuffixes), std::end(kSuffixes),
                     [&](std::string_view s) { return lower.ends_with(s); });
}

absl::StatusOr<Kind> Classify(const fs::path& dir, const fs::path& rel) {
  if (IsExtra(rel)) return Kind::kExtra;
  ASSIGN_OR_RETURN(MappedFile file, MappedFile::Open((dir / rel).string()));
  const std::string_view content = file.view();
  const std::string ext = ToLower(rel.extension().string());
  switch (SniffModelFormat(content)) {
    case ModelFormat::kOnnx:
      return Kind::kOnnx;
    case ModelFormat::kTorchScript:
      return Kind::kTorchScript;
    case ModelFormat::kOpenVinoIr:
      return Kind::kIr;
    case ModelFormat::kPaddle:
      return LooksLikePaddleJsonProgram(content) ? Kind::kPaddleJson : Kind::kPaddleProto;
    case ModelFormat::kUnknown:
      break;
  }
  const std::string shown = Quoted(rel.string());
  if (ext == ".onnx") return Bad(StrCat(shown, " is not an ONNX model"));
  if (ext == ".pt" || ext == ".pth" || ext == ".torchscript") {
    return Bad(StrCat(shown, " is not a TorchScript model (save it with torch.jit.save)"));
  }
  if (ext == ".xml") return Bad(StrCat(shown, " is not an OpenVINO IR model"));
  if (ext == ".pdmodel") return Bad(StrCat(shown, " is not a PaddlePaddle program"));
  return ext == ".json" ? Kind::kExtra : Kind::kOther;
}

// Every regular file under `dir`; links and special files are refused.
absl::StatusOr<std::vector<Found>> FindFiles(const fs::path& dir) {
  std::vector<Found> found;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::file_status st = it->symlink_status(ec);
    if (ec) break;
    const std::string rel = it->path().lexically_relative(dir).string();
    if (fs::is_directory(st)) continue;
    if (fs::is_symlink(st)) return Bad(StrCat(Quoted(rel), " is a symbolic link"));
    if (!fs::is_regular_file(st)) return Bad(StrCat(Quoted(rel), " is not a regular file"));
    if (found.size() >= kMaxFolderFiles) return Bad("the upload holds too many files");
    ASSIGN_OR_RETURN(Kind kind, Classify(dir, rel));
    found.push_back({rel, kind});
  }
  if (ec) return absl::InternalError(StrCat("cannot list ", dir.string(), ": ", ec.message()));
  std::sort(found.begin(), found.end(),
            [](const Found& a, const Found& b) { return a.rel < b.rel; });
  return found;
}

struct Plan {
  ModelFormat format = ModelFormat::kUnknown;
  std::vector<std::pair<std::string, std::string>> moves;  // from, to (relative); program first
  std::vector<std::string> extras;                         // to delete
};

// Takes the weights of `program` out of `others`: same stem + `ext` beside it, else the only one.
absl::StatusOr<std::string> TakeWeights(const std::string& program,
                                        std::vector<std::string>& others, std::string_view ext,
                                        std::string_view missing) {
  const std::string twin = fs::path(program).replace_extension(ext).string();
  auto it = std::find(others.begin(), others.end(), twin);
  if (it == others.end() && others.size() == 1) it = others.begin();
  if (it == others.end()) return Bad(missing);
  std::string weights = *it;
  others.erase(it);
  return weights;
}

absl::Status PlanOnnxData(const fs::path& dir, const std::string& program,
                          std::vector<std::string>& others, Plan& plan) {
  ASSIGN_OR_RETURN(MappedFile file, MappedFile::Open((dir / program).string()));
  RETURN_IF_ERROR(onnx::CheckExternalDataLocations(file.view()));
  ASSIGN_OR_RETURN(auto locations, onnx::ExternalDataLocations(file.view()));
  std::set<std::string> done;
  for (const std::string& location : locations) {
    const std::string from =
        (fs::path(program).parent_path() / location).lexically_normal().string();
    if (!done.insert(from).second) continue;
    auto it = std::find(others.begin(), others.end(), from);
    if (it == others.end()) {
      return Bad(StrCat("the ONNX external data file ", Quoted(location), " is missing"));
    }
    others.erase(it);
    plan.moves.emplace_back(from, fs::path(location).lexically_normal().string());
  }
  return absl::OkStatus();
}

absl::Status NoModel(const std::vector<std::string>& others) {
  for (const std::string& o : others) {
    if (ToLower(o).ends_with(".pdiparams")) {
      return Bad(StrCat("no model file found: ", Quoted(o),
                        " has no PaddlePaddle program (.pdmodel or .json) beside it"));
    }
  }
  return Bad(
      "no model file found (expected an ONNX or TorchScript file, an OpenVINO IR "
      ".xml + .bin pair or a PaddlePaddle .pdmodel/.json + .pdiparams pair)");
}

absl::StatusOr<Plan> MakePlan(const fs::path& dir, const std::vector<Found>& found) {
  Plan plan;
  std::vector<const Found*> programs;
  std::vector<std::string> others;
  for (const Found& f : found) {
    if (f.kind == Kind::kExtra) plan.extras.push_back(f.rel);
    if (f.kind == Kind::kOther) others.push_back(f.rel);
    if (f.kind != Kind::kExtra && f.kind != Kind::kOther) programs.push_back(&f);
  }
  if (programs.empty()) return NoModel(others);
  if (programs.size() > 1) {
    return Bad(StrCat("the upload holds more than one model: ", Quoted(programs[0]->rel), " and ",
                      Quoted(programs[1]->rel)));
  }
  const Found& p = *programs.front();
  switch (p.kind) {
    case Kind::kOnnx:
      plan.format = ModelFormat::kOnnx;
      plan.moves.emplace_back(p.rel, "model.onnx");
      RETURN_IF_ERROR(PlanOnnxData(dir, p.rel, others, plan));
      break;
    case Kind::kTorchScript:
      plan.format = ModelFormat::kTorchScript;
      plan.moves.emplace_back(p.rel, "model.pt");
      break;
    case Kind::kIr: {
      plan.format = ModelFormat::kOpenVinoIr;
      ASSIGN_OR_RETURN(std::string bin,
                       TakeWeights(p.rel, others, ".bin", "the IR weights file (.bin) is missing"));
      RETURN_IF_ERROR(CheckIrWeights((dir / p.rel).string(), (dir / bin).string()));
      plan.moves = {{p.rel, "model.xml"}, {bin, "model.bin"}};
      break;
    }
    default: {
      plan.format = ModelFormat::kPaddle;
      ASSIGN_OR_RETURN(std::string params,
                       TakeWeights(p.rel, others, ".pdiparams",
                                   "the PaddlePaddle weights file (.pdiparams) is missing"));
      const bool json = p.kind == Kind::kPaddleJson;
      plan.moves = {{p.rel, json ? "model.json" : "model.pdmodel"}, {params, "model.pdiparams"}};
    }
  }
  if (!others.empty()) {
    return Bad(StrCat("unexpected file ", Quoted(others.front()),
                      " beside the model (only the model and its weights are kept)"));
  }
  std::set<std::string> targets;
  for (const auto& move : plan.moves) {
    if (!targets.insert(move.second).second) return Bad(StrCat("two files would be ", move.second));
  }
  return plan;
}

absl::Status Execute(const fs::path& dir, const Plan& plan) {
  std::error_code ec;
  for (const std::string& extra : plan.extras) {
    if (!fs::remove(dir / extra, ec) || ec) {
      return absl::InternalError(StrCat("cannot remove ", (dir / extra).string()));
    }
  }
  // Through temporary names first, so that no move lands on a file still to be moved.
  for (size_t i = 0; i < plan.moves.size(); ++i) {
    fs::rename(dir / plan.moves[i].first, dir / StrCat(".cinfer-arrange-", i), ec);
    if (ec)
      return absl::InternalError(StrCat("cannot move ", plan.moves[i].first, ": ", ec.message()));
  }
  for (size_t i = 0; i < plan.moves.size(); ++i) {
    const fs::path to = dir / plan.moves[i].second;
    fs::create_directories(to.parent_path(), ec);
    if (!ec) fs::rename(dir / StrCat(".cinfer-arrange-", i), to, ec);
    if (ec) return absl::InternalError(StrCat("cannot move to ", to.string(), ": ", ec.message()));
  }
  // Empty folders, deepest first.
  std::vector<fs::path> folders;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_directory(ec) && !it->is_symlink(ec)) folders.push_back(it->path());
  }
  std::sort(folders.begin(), folders.end(),
            [](const fs::path& a, const fs::path& b) { return a.string() > b.string(); });
  for (const fs::path& f : folders) {
    if (fs::is_empty(f, ec) && !ec) fs::remove(f, ec);
  }
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> ParseU64(std::optional<std::string_view> text, std::string_view what) {
  if (!text || text->empty() || text->size() > 19) {
    return Bad(StrCat("the IR .xml has a Const layer with a missing or bad ", what));
  }
  uint64_t v = 0;
  for (char c : *text) {
    if (c < '0' || c > '9') return Bad(StrCat("the IR .xml has a Const layer with a bad ", what));
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

// The number of weight bytes the IR .xml reads: max offset + size over Const layers.
absl::StatusOr<uint64_t> IrWeightBytes(std::string_view xml) {
  static constexpr std::pair<std::string_view, std::string_view> kSkipped[] = {
      {"<!--", "-->"}, {"<?", "?>"}, {"<![CDATA[", "]]>"}, {"<!", ">"}, {"</", ">"}};
  uint64_t needed = 0;
  bool in_const = false;
  for (size_t pos = xml.find('<'); pos != std::string_view::npos; pos = xml.find('<', pos)) {
    const std::string_view rest = xml.substr(pos);
    const auto skip = std::find_if(std::begin(kSkipped), std::end(kSkipped),
                                   [&](const auto& s) { return rest.starts_with(s.first); });
    if (skip != std::end(kSkipped)) {
      if (skip->first == "</" && rest.substr(2).starts_with("layer")) in_const = false;
      const size_t end = xml.find(skip->second, pos + skip->first.size());
      if (end == std::string_view::npos) break;
      pos = end + skip->second.size();
      continue;
    }
    const auto tag = ScanXmlStartTag(xml, pos);
    if (!tag) return Bad(StrCat("the IR .xml is malformed near byte ", pos));
    if (tag->name == "layer") in_const = !tag->self_closing && tag->Attribute("type") == "Const";
    if (tag->name == "data" && in_const) {
      ASSIGN_OR_RETURN(uint64_t offset, ParseU64(tag->Attribute("offset"), "offset"));
      ASSIGN_OR_RETURN(uint64_t size, ParseU64(tag->Attribute("size"), "size"));
      if (size > UINT64_MAX - offset) return Bad("the IR .xml has a Const layer past 2^64 bytes");
      needed = std::max(needed, offset + size);
    }
    pos = tag->end;
  }
  return needed;
}

}  // namespace

absl::StatusOr<ModelBundle> ArrangeModelFiles(const std::string& dir) {
  std::error_code ec;
  const fs::path root = fs::absolute(dir, ec);
  if (ec || !fs::is_directory(root, ec)) return absl::NotFoundError(StrCat("no folder ", dir));
  ASSIGN_OR_RETURN(std::vector<Found> found, FindFiles(root));
  ASSIGN_OR_RETURN(Plan plan, MakePlan(root, found));
  RETURN_IF_ERROR(Execute(root, plan));
  ModelBundle bundle;
  bundle.format = plan.format;
  bundle.primary = (root / plan.moves.front().second).string();
  for (const auto& move : plan.moves) bundle.files.push_back(move.second);
  return bundle;
}

absl::Status CheckIrWeights(const std::string& xml_path, const std::string& bin_path) {
  ASSIGN_OR_RETURN(MappedFile xml, MappedFile::Open(xml_path));
  struct stat st {};
  if (::stat(bin_path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return Bad("the IR weights file (.bin) is missing");
  }
  ASSIGN_OR_RETURN(uint64_t needed, IrWeightBytes(xml.view()));
  const auto have = static_cast<uint64_t>(st.st_size);
  if (have < needed) {
    return Bad(StrCat("the IR weights file is shorter than the model needs: ", have, " of ", needed,
                      " bytes"));
  }
  return absl::OkStatus();
}

}  // namespace cinfer
