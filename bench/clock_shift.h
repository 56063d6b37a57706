// Moving a FreeSWITCH sample's times to the present, for the benchmarks
// (cdrd_loadgen, cdrd_esl_bench): CDRs from a live switch carry the current
// time, so their rows land in the current month's partition of cdrs. A
// sample's own old times would send every row to cdrs_default, which the
// writer fills through its upsert path, not the direct COPY most rows take.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace cdrd {

// Moves every clock reading of a FreeSWITCH document in `body` (10-digit
// epoch seconds and 16-digit epoch µs: start_epoch, *_uepoch, *_time,
// Caller-Channel-*-Time, transfer_history...) by the same whole number of
// 10^4 s: those that share their first six digits with `start_epoch` (the
// document's start_epoch, 10 digits) get the first six digits of `to_unix`,
// so the start lands in the same 10^4 s (2.8 h) as `to_unix`. A call lasts
// minutes, so its readings share those six digits, and they all move alike,
// at the same length. Returns how many were moved. The human-readable
// *_stamp strings keep their text: the normalizers read the epoch values.
size_t move_times_to(const std::string& start_epoch, int64_t to_unix, std::string* body);

}  // namespace cdrd
