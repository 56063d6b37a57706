// What every FreeSWITCH source (mod_json_cdr, mod_xml_cdr, ESL events) tells
// about one call leg, in one source-independent shape. Adapters fill it; the
// record builder (record_builder.h) turns it into the canonical record.
//
// Every string_view points into storage the adapter owns (for the JSON CDR:
// the in-situ parsed copy of the document); it must outlive the build.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

namespace cdrd {

// Channel variables by name, values already percent-decoded. Fill with add(),
// then call seal() once before any lookup. A record builder looks up some
// hundred names among a few hundred variables, so seal() builds a hash index
// (linear probing) instead of sorting them all: sorting was a sixth of the
// time of a whole normalization.
class ChannelVariables {
 public:
  using Entry = std::pair<std::string_view, std::string_view>;  // name, value

  void reserve(size_t n) { entries_.reserve(n); }
  void add(std::string_view name, std::string_view value) {
    // Not emplace_back(name, value): its out-of-line growth path takes the
    // arguments by reference, so GCC 12 stores them on the stack and copies
    // them back with 16-byte loads, which stall (a failed store-to-load
    // forward) on every call; this runs for every variable.
    Entry& entry = entries_.emplace_back();
    entry.first = name;
    entry.second = value;
  }
  // Indexes the names; when a name is given twice, the first one added wins.
  void seal();

  // The value of `name`, empty when absent.
  std::string_view get(std::string_view name) const;
  // The variables whose name starts with `prefix`, in name order (a name
  // given twice: the first one added).
  std::vector<Entry> with_prefix(std::string_view prefix) const;

 private:
  std::vector<Entry> entries_;  // in the order added
  // The first eight bytes of each name (zero-padded): compared before the
  // names themselves, and scanned by with_prefix() to find the few names
  // with a prefix without a memcmp each.
  std::vector<uint64_t> heads_;
  // Open addressing over a power of two: 1 + the index in entries_ of the
  // first entry of a name, 0 for a free slot.
  std::vector<size_t> slots_;
  size_t mask_ = 0;
};

// One caller profile: the leg's own, or the other leg's as this leg saw it.
struct PartyProfile {
  std::string_view uuid;
  std::string_view caller_id_name;
  std::string_view caller_id_number;
  std::string_view callee_id_name;
  std::string_view callee_id_number;
  std::string_view destination_number;
  std::string_view direction;  // inbound / outbound, when the source says
};

// The profile's timestamps, µs since the Unix epoch, 0 when unknown.
struct ProfileTimes {
  int64_t created = 0;
  int64_t progress = 0;
  int64_t answered = 0;
  int64_t hangup = 0;
};

// A decimal integer filling the whole of `text` (a profile time, a uepoch);
// 0 for anything else, which every source treats as "unknown".
int64_t decimal_or_zero(std::string_view text);

struct ChannelData {
  ChannelVariables variables;
  PartyProfile caller;                   // the leg's own, latest caller profile
  ProfileTimes times;                    // of `caller`
  PartyProfile other_leg;                // the originatee (this leg originated it) or the originator
  bool other_leg_is_originator = false;  // true: another leg originated this one
  std::string_view direction;   // the channel's direction from the core (JSON channel_data, ESL Call-Direction)
  std::string_view switchname;  // the media server's name outside the variables (JSON top-level switchname)
  std::string_view core_uuid;   // the FreeSWITCH instance's core-uuid
  std::string_view host_ipv4;   // the media server's own IPv4 outside the variables (ESL FreeSWITCH-IPv4)
};

}  // namespace cdrd
