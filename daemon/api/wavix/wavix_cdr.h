// Wavix's CDR object (seed 002: `GET /v1/cdr/{uuid}`), one per call
// (CallRow; the `answered` leg may be absent). Pure: the read core selects
// the row and answers with the object itself.
//
// Keys: the seed's, in its order, always present. Money is decimal text with
// at least one decimal place ("0.023", "1.0"), in the deck's currency (the
// seed says USD: cdrd prices in the currency of the deck assigned).
//
//   date           the root's start, "2023-08-21T06:43:36.000Z" (ms, cut)
//   from, to       the root's caller_e164 / callee_e164 without '+', else the
//                  digits of caller_id_number / callee_id_number; null when
//                  the leg has no digit of a number
//   disposition    the call's billing_status (answered when either leg
//                  answered, else the last leg's): answered, noanswer, busy,
//                  failed; null when no leg has one
//   duration       the billed seconds of the answering leg (0 unanswered)
//   destination    the root's destination.name (the matched rate's name or
//                  the callee's country); null when the callee number was
//                  no E.164 number
//   per_minute     the rate per minute of the root's rating.customer the
//                  call ended at (RecordView::rating_rate_per_minute: the
//                  next rate once past the initial interval, else the
//                  initial one; a tiered rate: the tier reached last);
//                  null when unrated: the seed marks it required, but "0"
//                  would claim a free call
//   recording_url  the root's, else the leg's; null when none
//   charge         the root's rating.customer.charge; null when unrated
//   sip_trunk      the root's trunk, else the leg's; null when none
//   forward_fee    "0.0": cdrd prices a call once, in `charge`; for a transit
//                  call (carrier in, forwarded to a carrier) the forwarding
//                  is inside `charge` and its share is unknown: null
//   uuid           the call_id of the leg asked for (`uuid`), the root's
//                  when empty
//   parent_uuid    the root's call_id: the call that made the leg (the seed
//                  shows it equal to uuid for the call itself)
//   answered_by    the leg's answered_by (human/machine), else the root's,
//                  else null
#pragma once

#include <string_view>

#include "daemon/api/call_rows.h"
#include "daemon/api/record_view.h"

namespace cdrd {

// Writes the CDR object. `uuid`: the call_id the client asked for (a leg of
// this call), empty for the root's. Throws std::invalid_argument naming the
// row member and field when a record is not JSON or its stored money or
// tiers are malformed.
void write_wavix_cdr(JsonWriter& w, const CallRow& row, std::string_view uuid = {});

}  // namespace cdrd
