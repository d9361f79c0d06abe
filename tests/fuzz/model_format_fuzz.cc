// Fuzzes model-format sniffing (engines/model_format.h) and the ONNX protobuf wire reader
// (engines/onnx_proto.h) on untrusted model file content.
// Checked: sniffing agrees with the two detectors; a model whose input shapes could be fixed
// still parses and reports the shapes it was given.
#include <cstdint>
#include <map>
#include <string>

#include "engines/model_format.h"
#include "engines/onnx_proto.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view content = cinfer::fuzz::AsText(data, size);
  const bool torchscript = cinfer::LooksLikeTorchScript(content);
  const bool onnx = cinfer::onnx::LooksLikeOnnx(content);
  const cinfer::ModelFormat format = cinfer::SniffModelFormat(content);
  const bool paddle = cinfer::LooksLikePaddleProgram(content);
  const bool ir = cinfer::LooksLikeOpenVinoIr(content);
  FUZZ_CHECK(format == (torchscript ? cinfer::ModelFormat::kTorchScript
                        : onnx      ? cinfer::ModelFormat::kOnnx
                        : paddle    ? cinfer::ModelFormat::kPaddle
                        : ir        ? cinfer::ModelFormat::kOpenVinoIr
                                    : cinfer::ModelFormat::kUnknown));

  (void)cinfer::onnx::ExternalDataLocations(content);
  (void)cinfer::onnx::CheckExternalDataLocations(content);
  auto inputs = cinfer::onnx::GraphInputShapes(content);
  if (!inputs.ok()) return 0;
  // Fix every input at its declared shape, dynamic dimensions as 1.
  std::map<std::string, cinfer::Shape> wanted;
  for (const auto& [name, shape] : *inputs) {
    cinfer::Shape fixed = shape;
    for (int64_t& d : fixed) d = d < 0 ? 1 : d;
    wanted[name] = fixed;
  }
  auto rewritten = cinfer::onnx::WithFixedInputShapes(content, wanted);
  if (!rewritten.ok()) return 0;
  auto after = cinfer::onnx::GraphInputShapes(*rewritten);
  FUZZ_CHECK(after.ok());
  for (const auto& [name, shape] : wanted) FUZZ_CHECK(after->at(name) == shape);
  return 0;
}
