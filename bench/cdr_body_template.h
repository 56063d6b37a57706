// The request body the load generator posts: one mod_json_cdr sample
// rendered once, with the offsets of every occurrence of its call uuid
// remembered so that each CDR only costs a 36-byte patch per occurrence.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bench/clock_shift.h"

namespace cdrd {

class CdrBodyTemplate {
 public:
  // Parses `sample_json` (a mod_json_cdr document), sets
  // variables.account_id = `account_id` so a run's rows can be counted
  // exactly, and renders it without whitespace as mod_json_cdr does
  // (cJSON_PrintUnformatted), or tab-indented when `pretty`.
  // False with *error when the sample is not a JSON object with a 36-character
  // variables.uuid.
  // `move_to_unix` > 0 moves the sample's times to about that Unix time
  // (move_times_to below); 0 keeps them.
  static bool build(const std::string& sample_json, const std::string& account_id, bool pretty, int64_t move_to_unix,
                    CdrBodyTemplate* out, std::string* error);

  const std::string& body() const { return body_; }
  const std::string& sample_uuid() const { return sample_uuid_; }
  // How many clock readings move_times_to() moved (0 when the times were kept).
  size_t moved_times() const { return moved_times_; }
  size_t uuid_occurrences() const { return offsets_.size(); }

  // Overwrites every occurrence of the call uuid in `body` (a copy of body())
  // with `uuid`, which must be 36 characters, and every occurrence of the
  // other leg's uuid (variables.bridge_uuid) with `uuid` reversed.
  void patch_uuid(const char* uuid, std::string* body) const;

 private:
  std::string body_;
  size_t moved_times_ = 0;
  std::string sample_uuid_;
  std::vector<size_t> offsets_;
  std::string other_uuid_;             // variables.bridge_uuid of the sample, when it has one
  std::vector<size_t> other_offsets_;  // where it occurs
};

// A version-4-shaped uuid, unique per (run_id, index): the 64 bits of the run
// id spread over the first four groups, `index` in the last 48 bits. Writes 36 characters
// plus a terminating NUL into `out`.
void format_bench_uuid(uint64_t run_id, uint64_t index, char out[37]);

}  // namespace cdrd
