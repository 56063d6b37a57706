// PortSIP PBX's CDR item (seed 001: `GET /api/cdrs` -> {count, items[]},
// `GET /api/cdrs/{id}` -> {items: [item]}), one per call (CallRow: the root
// leg and the leg that answered, else the last attempt). Pure: the read core
// selects the rows and writes the envelope.
//
// Keys: the union of the seed's two examples in its order (the list's `id`,
// the single item's `cost` and `billed_account`), every one always present,
// null when unknown. Times are "YYYY-MM-DDTHH:MM:SSZ" (cut to the second).
//
//   id                   the root's cdrd id (YYYYMM-<call id>), what
//                        GET /api/cdrs/{id} takes. FreeSWITCH ids are
//                        [0-9a-f-] and need no escaping; an imported call id
//                        may hold any character, so a client percent-encodes
//                        the path segment and the route decodes it.
//   caller, caller_display_name   root caller_id_number, caller_id_name
//   caller_domain        host of the root's from_uri
//   callee, callee_display_name   callee_id_number / callee_id_name of the
//                        answered (else last) leg, else of the root
//   callee_domain        host of the root's to_uri
//   started_at           the root's start; rang_at: the root's rang_at, else
//                        the leg's; answered_at: the leg's when it answered,
//                        else the root's; ended_at: the later of both legs'
//   call_id              the root's call_id (FreeSWITCH's uuid, what cdrd's
//                        call filters take; the SIP Call-ID is sip_call_id)
//   direction            direction_class: inbound INBOUND_CALL, outbound
//                        OUTBOUND_CALL, internal INTERNAL_CALL, transit
//                        TRANSIT_CALL (carrier in, carrier out)
//   end_reason           see portsip_end_reason()
//   reroute_reason       the `transfer` lists of both legs: a transfer
//                        (bl_xfer, att_xfer, uuid_br, refer) TRANSFER, else a
//                        Diversion header DIVERSION, else null. FreeSWITCH
//                        records a dialplan `transfer` as bl_xfer too.
//   status_code          sip_term_status of the answered/last leg, else of
//                        the root, as an integer
//   destination          the number the caller dialed: the user of the
//                        root's `request` (sip_req_user), else its
//                        callee_id_number
//   outbound_caller_id   outbound and transit calls: the caller id the call
//                        went out with (the answered/last leg's
//                        caller_id_number, the root's for a call of one leg);
//                        else null
//   did_cid              inbound and transit calls: the DID (= destination);
//                        outbound: the outbound caller id; internal: null
//   trunk                the root's trunk, else the leg's
//   duration             the billed seconds of the answering leg (0 when
//                        unanswered)
//   cost                 the root's rating.customer.charge as a JSON number
//                        written from its decimal text (exact); null unrated
//   billed_account       the root's accountcode, else its account_id
//   service_number,      null: no canonical field carries a service number
//   user_data            or free user data
#pragma once

#include <optional>
#include <string_view>

#include "daemon/api/call_rows.h"
#include "daemon/api/record_view.h"

namespace cdrd {

// Writes the item object. Throws std::invalid_argument naming the row member
// and field when a record is not JSON or its stored money is no decimal.
void write_portsip_item(JsonWriter& w, const CallRow& row);

// `direction` of a direction_class (nullopt for any other value).
std::optional<std::string_view> portsip_direction(std::string_view direction_class);

// `end_reason`:
// - answered: CALLER_DISCONNECTED when the root received the BYE
//   (hangup_disposition recv_bye); CALLEE_DISCONNECTED when the answering leg
//   received it, or the root sent it; null when neither disposition is known;
// - unanswered, the first that holds, over the answered/last leg and the
//   root: CANCELLED (the root got a CANCEL: recv_cancel, ORIGINATOR_CANCEL,
//   SIP 487), BUSY (USER_BUSY, billing_status busy, SIP 486/600), NO_ANSWER
//   (NO_ANSWER, NO_USER_RESPONSE, billing_status noanswer, SIP 408/480),
//   REJECTED (CALL_REJECTED, SIP 603), else FAILED.
std::optional<std::string_view> portsip_end_reason(const CallView& call);

}  // namespace cdrd
