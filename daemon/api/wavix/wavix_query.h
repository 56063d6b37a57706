// The query parameters of Wavix's CDR list (seed 002; Wavix's `GET
// /v1/cdrs` as its SDKs send it) -> the read core's RowWindow, as pure
// functions (no server, no request), so that they are unit-tested alone.
//
//   from, to      required, YYYY-MM-DD: whole UTC days, both inclusive, at
//                 most kWavixMaxDays days; compared with the end of the
//                 call's root leg (cdrs.ts), as every cdrd list is
//   type          required: placed (outbound and transit calls) or received
//                 (inbound and internal calls): call assembly's
//                 direction_class
//   disposition   answered (default), noanswer, busy, failed, or all: the
//                 call's disposition exactly as the CDR object shows it
//                 (wavix_cdr.h: answered when the root or the answering leg
//                 answered, else the final leg's billing_status, else the
//                 root's)
//   from_search   digits the `from` number contains ('+' and spaces
//   to_search     ignored; at most 32 digits)
//   sip_trunk     the call's trunk exactly as the CDR object shows it (the
//                 root's, else the answering or last leg's)
//   page          1.., default 1
//   per_page      1..kWavixMaxPerPage, default kWavixDefaultPerPage
//
// A bad value is an error whose message starts with the parameter's name;
// a parameter not listed here is ignored (as Wavix does).
#pragma once

#include <cstdint>
#include <string>

#include "daemon/api/api_request.h"
#include "daemon/api/call_row_source.h"

namespace cdrd {

inline constexpr int64_t kWavixDefaultPerPage = 25;
inline constexpr int64_t kWavixMaxPerPage = 100;
inline constexpr int64_t kWavixMaxDays = 31;

// The SQL of the call-level values the filters compare (alias c: the root
// leg, as call_row_source.h names it). The answering leg is chosen as
// call_row_source.cpp chooses CallRow::answered, so that a filter selects
// exactly the calls whose CDR object shows the value.
extern const char* const kWavixDispositionSql;
extern const char* const kWavixTrunkSql;
extern const char* const kWavixFromSql;
extern const char* const kWavixToSql;
// custom_channel_vars.owner_id of the root (a user token's restriction).
extern const char* const kWavixOwnerSql;

struct WavixListQuery {
  // Everything but account_id (the credential decides it). Newest first.
  RowWindow window;
  int64_t page = 1;
  int64_t per_page = kWavixDefaultPerPage;
};

// `text` is a date YYYY-MM-DD of the proleptic Gregorian calendar: *unix_day
// = its 00:00:00Z in Unix seconds.
bool parse_wavix_date(const std::string& text, int64_t* unix_day);

// Reads and checks the list parameters into *out; false with *message
// (starting with the parameter's name) for a missing required one or a bad
// value.
bool parse_wavix_list_query(const ApiParams& params, WavixListQuery* out, std::string* message);

}  // namespace cdrd
