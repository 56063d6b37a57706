// Yeti's customer API incoming CDR (seed 004: JSON:API
// `GET /api/rest/customer/v1/incoming-cdrs/{id}`, yeti-web's
// IncomingCdrResource over Cdr::Cdr), one per routing attempt (AttemptRow:
// a leg delivered to the account, with its call's root). Pure: the read core
// selects the rows and wraps the `data` object this writes.
//
// `attributes` has exactly the seed's dasherized keys in its order, every
// one always present, null when unknown. Types as yeti-web renders its
// columns: numeric columns (rates, fee, price) as decimal strings (Rails'
// BigDecimal#to_s: "0.012", "1.0"), integer columns as numbers, times as
// "2026-02-27T16:55:53.518Z" (ms, cut).
//
//   time-start / -connect / -end   the attempt's start, answered_at, ended_at
//   duration             the attempt's billing_seconds (0 unanswered)
//   success              the attempt answered
//   dialpeer-*, vendor-* the attempt's rating.vendor: initial/next interval
//                        and rate, connect_fee (dialpeer-fee), prefix, charge
//                        (vendor-price), billed_seconds (vendor-duration);
//                        null when the leg was not rated. A tiered rate has
//                        no initial/next: those four are null.
//   src-name-out, src-prefix-out, dst-prefix-out
//                        what the attempt leg sent: its caller_id_name,
//                        caller_id_number, callee_id_number
//   src-prefix-routing, dst-prefix-routing
//                        the numbers the call was routed and rated on: the
//                        root's caller_e164 / callee_e164 without '+', else
//                        the digits of its caller_id_number / callee_id_number
//   diversion-out        the destination of the attempt's first `transfer`
//                        entry of kind diversion (a Diversion header)
//   local-tag            cdrd's own SIP tag on the attempt leg: from_tag on
//                        an outbound leg (cdrd's side sent the INVITE), to_tag
//                        on an inbound one; a leg without call_direction
//                        counts as outbound when it is a B-leg
//   legb-disconnect-code / -reason the attempt's sip_term_status (integer) /
//                        sip_term_phrase
//   sign-term-ip / -port the attempt's sip_network_ip / sip_network_port
//   sign-term-transport-protocol-id  yeti's class4.transport_protocols id of
//                        the attempt's sip_transport: udp 1, tcp 2, tls 3,
//                        ws 5; null for wss (yeti has no id for it)
//   term-call-id         the attempt's sip_call_id (the SIP Call-ID)
//   legb-user-agent      the attempt's user_agent
//   rec                  the attempt answered and it or the root has a
//                        recording_url (yeti: false for a call of 0 s)
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "daemon/api/call_rows.h"
#include "daemon/api/record_view.h"

namespace cdrd {

// Writes the `data` object: {id (seq as a string), type "incoming-cdrs",
// links.self, attributes, relationships.account.links {self, related}}.
// `collection_url` is the absolute URL of the collection,
// "http://example.org/api/rest/customer/v1/incoming-cdrs"; the links are
// "<collection_url>/<id>", ".../<id>/relationships/account" and
// ".../<id>/account". Throws std::invalid_argument naming the row member and
// field when a record is not JSON or its stored money is no decimal.
void write_yeti_incoming_cdr(JsonWriter& w, const AttemptRow& row, std::string_view collection_url);

// yeti's transport protocol id of a canonical sip_transport.
std::optional<int64_t> yeti_transport_protocol_id(std::string_view sip_transport);

}  // namespace cdrd
