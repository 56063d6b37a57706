// The billing details of one leg that the record builder adds to the
// canonical record (issue 12): transfers, the uuids of the other legs of the
// call, the trunk, the recording, answering-machine detection. Pure
// functions over the channel variables, shared by every FreeSWITCH source.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/freeswitch/channel_data.h"
#include "adapters/freeswitch/normalize.h"

namespace cdrd {

// The items of a multi-valued channel variable: FreeSWITCH writes
// "ARRAY::a|:b|:c" once a variable holds more than one value; any other
// value is its only item. Empty items are skipped.
std::vector<std::string_view> variable_items(std::string_view value);

// One transfer_history entry, "epoch:uuid:kind:destination"
// (switch_ivr.c / switch_ivr_bridge.c): kind bl_xfer (destination
// "ext/context/dialplan"), att_xfer ("user@host/user@host"), uuid_br (the
// uuid of the channel it was bridged to). `uuid` is the caller profile's
// own id (switch_caller_profile_new), not a channel's.
struct TransferEntry {
  int64_t epoch = 0;  // Unix seconds; 0 when the entry has none
  std::string_view uuid;
  std::string_view kind;
  std::string_view destination;  // may itself hold ':'
};

// Every entry of a transfer_history value (one entry or ARRAY::), oldest
// first; entries without three ':' are skipped.
std::vector<TransferEntry> parse_transfer_history(std::string_view value);

// Kazoo's spelling of a custom key: lower case, '-' as '_' (ecallmgr_Owner-ID
// -> owner_id once the prefix is gone, X-Foo-Bar -> x_foo_bar). Bytes
// outside ASCII are kept as they are.
std::string kazoo_key(std::string_view key);

// `url_template` with every {name} replaced by the channel variable `name`.
// False when a named variable is not set (then there is no URL).
bool expand_url_template(std::string_view url_template, const ChannelVariables& v, std::string* out);

// The trunk of the leg by `rules` (first match wins: a variable, then the
// far end's address `network_ip` in a network, then the SIP profile); empty
// when none matches.
std::string_view find_trunk(const ChannelVariables& v, const TrunkRules& rules, std::string_view network_ip);

// "human" / "machine" from mod_amd's amd_result (HUMAN / MACHINE) or
// mod_avmd's avmd_detect (TRUE: a beep was heard, so a machine); empty otherwise.
std::string_view answered_by(const ChannelVariables& v);

// The Diversion headers the leg saw or sent (sip_i_diversion from the
// INVITE, sip_h_Diversion / sip_rh_Diversion set for requests / responses;
// any case), distinct values in that order.
std::vector<std::string_view> diversions(const ChannelVariables& v);
// The same from the variables with_prefix() gives for "sip_i_", "sip_h_"
// and "sip_rh_", for a caller that has them already.
std::vector<std::string_view> diversions(const std::vector<ChannelVariables::Entry>& sip_i,
                                         const std::vector<ChannelVariables::Entry>& sip_h,
                                         const std::vector<ChannelVariables::Entry>& sip_rh);

// The uuids of other channels the leg names (the other leg, bridge and
// loopback partners, originator, transfers), without `call_id` itself,
// sorted and unique. Values as given (not yet made valid UTF-8).
std::vector<std::string_view> related_call_ids(const ChannelData& data, std::string_view call_id);

}  // namespace cdrd
