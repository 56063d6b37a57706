// The rate deck CSV of `cdrd rates import` and `cdrd rates export`.
//
// A header line names the columns, in any order. Required:
//   prefix, name, initial_interval, initial_rate, next_interval, next_rate
// optional:
//   connect_fee, attempt_fee, grace_seconds, min_length, max_length,
//   valid_from, valid_till, tiers
// Rates are per 60 seconds and, like the fees, decimal text ("0.012"), never
// negative, at most 12 decimal places. Intervals and lengths are whole
// numbers. valid_from/valid_till are ISO-8601 (rating_time.h); empty = open.
// tiers is "start_seconds:rate_per_minute:increment_seconds;..." and, when
// set, the row's initial_*/next_* cells stay empty. RFC 4180 quoting
// ("a, b" and "" inside quotes), LF or CRLF line ends, a UTF-8 BOM and blank
// lines are accepted.
//
// The file is taken whole or not at all: the first bad cell refuses it with
// "<source> line N, column C: <what>". export writes every column, so its
// output imports again to the same rates.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "daemon/rating/rate_deck.h"

namespace cdrd {

// Parses `text` into *entries (in file order). `source` names the file in
// the messages. False with *error on the first problem, *entries then
// unspecified.
bool parse_deck_csv(std::string_view text, std::string_view source, std::vector<RateEntry>* entries,
                    std::string* error);

// The header line and one line per entry, every column, "\n" line ends.
std::string deck_csv_header();
void append_deck_csv_row(const RateEntry& entry, std::string* out);
std::string deck_csv(const std::vector<RateEntry>& entries);

}  // namespace cdrd
