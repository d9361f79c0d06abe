// The file parts of a model upload, turned into the file a ModelUpload names.
//
// - One part that is a model file (ONNX, TorchScript, ...): used as it is.
// - One part that is an archive (.zip, .tar, .tar.gz; recognised by content,
//   a TorchScript zip is a model, not an archive): unpacked safely
//   (models/model_archive.h) into a staging folder under the spool folder.
// - Several parts (an OpenVINO IR .xml + .bin, a PaddlePaddle .pdmodel +
//   .pdiparams): written into a staging folder under their base names.
// A staging folder is then arranged into a canonical model folder
// (models/model_bundle.h: every file recognised by content) and the upload's
// file is its model file (model.xml, model.pdmodel, ...), with
// ModelUpload::bundle_dir set; ModelService moves the whole folder into the
// store. StagedFiles removes the staging folder when the request ends unless it
// was moved.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "http/multipart.h"
#include "models/model_service.h"

namespace cinfer::api {

class StagedFiles {
 public:
  StagedFiles() = default;
  ~StagedFiles();
  StagedFiles(const StagedFiles&) = delete;
  StagedFiles& operator=(const StagedFiles&) = delete;

  // Fills up->file_path, size_bytes, sha256, original_filename and, for a
  // staging folder, bundle_dir. `max_bytes` bounds the model's files together
  // (models.max_file_size_mb), unpacked or not: 413 beyond it.
  absl::Status Stage(const std::vector<const http::MultipartPart*>& files,
                     const std::string& spool_dir, uint64_t max_bytes, ModelUpload* up);

 private:
  std::string dir_;
};

}  // namespace cinfer::api
