// Call assembly: which stored and arriving legs are one call, and what the
// call-level fields of each leg are. Pure (no database, no I/O): the batch
// writer (daemon/db/call_store.h) feeds it the legs of a batch plus every
// stored leg connected to them, and writes back what changed.
//
// Two legs are one call when they name a common uuid (their `links`): each
// leg's own call_id, the interaction it names itself, and the uuids it
// relates to (other leg, bridge_uuid, signal_bond, originator, loopback
// halves, transfers: the record's `related_call_ids`). Chains of loopbacks
// and bridges are the connected components of that relation, so the result
// is the same whatever the order and the route by which the legs arrive: a
// leg that reveals that two stored groups are one call merges them, and the
// rows already written are re-linked.
//
// Per call:
// - the root leg is the earliest started leg that is not an internal
//   loopback half (ties: smallest call_id); it stands for the call, carries
//   the customer charge, and its own interaction id is the call's;
// - direction_class: `inbound` when a trunk leg came in (call_direction
//   inbound), `outbound` when a trunk leg went out, `transit` for both,
//   `internal` when no leg touched a trunk. The same on every leg.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cdrd {

struct AssemblyLeg {
  std::string account_id;  // calls never span accounts
  std::string call_id;
  std::string leg_interaction_id;  // the interaction the leg names itself; empty = its call_id
  std::vector<std::string> links;  // uuids the leg names, its own call_id included
  int64_t started_us = 0;          // channel_created_time; 0 when unknown (sorts first)
  bool is_loopback = false;
  std::string trunk;           // empty when the leg touched no trunk
  std::string call_direction;  // FreeSWITCH's view: inbound / outbound
};

struct AssembledLeg {
  std::string interaction_id;
  std::string direction_class;  // inbound / outbound / internal / transit
  bool root = false;            // the leg that stands for the call (customer charge)
  size_t call = 0;              // index of the call among the result's calls (same value = same call)
};

// One result per input leg, in input order. Legs with the same account and
// call_id are the same leg (a stored row and its richer replacement): they
// get the same result.
std::vector<AssembledLeg> assemble_calls(const std::vector<AssemblyLeg>& legs);

// Links too long for an index entry, or holding a NUL, never link: a leg
// with such a uuid is still stored, alone.
bool usable_link(const std::string& link);

}  // namespace cdrd
