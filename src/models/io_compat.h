// Whether clients of one model version keep working on another: compares two
// io_schema documents ({"inputs": [...], "outputs": [...]}, each entry
// {name, datatype, shape}, -1 or null for a dynamic dimension, shape null when
// unknown). Used before a published model switches versions (docs/MODELS.md).
#pragma once

#include <string>
#include <vector>

#include "nlohmann/json.hpp"

namespace cinfer {

// What a client of `served` would notice on `candidate`, one sentence each;
// empty when compatible. Inputs: every served input must exist with the same
// datatype and rank, each fixed dimension unchanged and no dynamic dimension
// made fixed; the candidate may not add inputs. Outputs: every served output
// must exist with the same datatype, rank and fixed dimensions; extra outputs
// are fine.
std::vector<std::string> IoDifferences(const nlohmann::json& served,
                                       const nlohmann::json& candidate);

}  // namespace cinfer
