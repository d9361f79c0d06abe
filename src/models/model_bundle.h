// Multi-file model uploads: arranges the files of a staging folder (unpacked
// from an archive by UnpackArchive, or written from several multipart parts)
// into a canonical model folder (model.onnx, model.pt, model.xml + model.bin,
// model.pdmodel or model.json + model.pdiparams), recognising every file by its
// content. Stateless; thread-safe as long as callers use different folders.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engines/model_format.h"
#include "models/model_archive.h"  // UnpackArchive, LooksLikeArchive

namespace cinfer {

struct ModelBundle {
  ModelFormat format = ModelFormat::kUnknown;
  std::string primary;             // absolute path of model.onnx / .pt / .xml / .pdmodel / .json
  std::vector<std::string> files;  // relative paths of the files kept, `primary`'s first
};

// Turns the files found anywhere under `dir` into a canonical model folder:
// - every file is recognised by content; harmless extras are deleted:
//   README*, LICENSE*, *.txt, *.md, *.yml, *.yaml, *.pdiparams.info, *.mapping,
//   .DS_Store, ._* and everything under __MACOSX/, and .json files that are
//   not a PaddlePaddle program;
// - exactly one network file must be found (ONNX, TorchScript, OpenVINO IR
//   .xml, PaddlePaddle program); it moves to model.onnx / model.pt /
//   model.xml / model.pdmodel / model.json at the top of `dir`;
// - the weights of a two-file format (no recognisable content) are the file
//   with the same stem and extension .bin (IR) / .pdiparams (Paddle) next to
//   it or, failing that, the one other file when there is exactly one; they
//   move to model.bin / model.pdiparams. IR weights are checked against the
//   offsets the .xml uses (CheckIrWeights);
// - the external data files an ONNX model names keep their place relative to it;
// - then empty folders are removed.
// InvalidArgument, with `dir` left as it was, when: no network file is found;
// more than one is; the weights are missing; a file named as a model
// (.onnx, .pt, .pth, .xml, .pdmodel, .pdiparams without a program) fails the
// content check; any other file is left over; a link or special file is found.
absl::StatusOr<ModelBundle> ArrangeModelFiles(const std::string& dir);

// The IR weights file must exist and be at least as long as the largest
// offset + size of any <data> element of a Const layer in the .xml.
absl::Status CheckIrWeights(const std::string& xml_path, const std::string& bin_path);

}  // namespace cinfer
