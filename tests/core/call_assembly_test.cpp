// call_assembly.h: which legs are one call, whatever the order they come in.
#include "daemon/core/call_assembly.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

namespace cdrd {
namespace {

AssemblyLeg leg(std::string call_id, std::string leg_interaction, std::vector<std::string> related, int64_t started,
                bool loopback, std::string direction, std::string trunk = "", std::string account = "acct") {
  AssemblyLeg l;
  l.account_id = std::move(account);
  l.call_id = std::move(call_id);
  l.leg_interaction_id = std::move(leg_interaction);
  l.links = std::move(related);
  l.started_us = started;
  l.is_loopback = loopback;
  l.call_direction = std::move(direction);
  l.trunk = std::move(trunk);
  return l;
}

// A user's call (a) into the dialplan, bridged to loopback la1/lb1, whose
// dialplan bridges to loopback la2/lb2, whose dialplan bridges out to the
// carrier (b): three hops. Each half names only its neighbour, as
// FreeSWITCH writes them (originator / other_loopback_leg_uuid).
std::vector<AssemblyLeg> three_hop_chain() {
  return {
      leg("a", "", {}, 1000, false, "inbound"),       leg("la1", "a", {"a"}, 1001, true, "outbound"),
      leg("lb1", "", {"la1"}, 1001, true, "inbound"), leg("la2", "lb1", {"lb1"}, 1002, true, "outbound"),
      leg("lb2", "", {"la2"}, 1002, true, "inbound"), leg("b", "lb2", {"lb2"}, 1003, false, "outbound", "carrier1"),
  };
}

TEST(CallAssembly, ThreeHopLoopbackChainIsOneCallInEveryOrder) {
  const std::vector<AssemblyLeg> chain = three_hop_chain();
  std::vector<size_t> order(chain.size());
  std::iota(order.begin(), order.end(), size_t{0});
  int permutations = 0;
  do {
    std::vector<AssemblyLeg> legs;
    legs.reserve(order.size());
    for (size_t i : order) legs.push_back(chain[i]);
    const std::vector<AssembledLeg> out = assemble_calls(legs);
    ASSERT_EQ(out.size(), legs.size());
    for (size_t i = 0; i < out.size(); ++i) {
      EXPECT_EQ(out[i].interaction_id, "a") << legs[i].call_id;
      EXPECT_EQ(out[i].direction_class, "outbound") << legs[i].call_id;
      EXPECT_EQ(out[i].root, legs[i].call_id == "a") << legs[i].call_id;
      EXPECT_EQ(out[i].call, out[0].call);
    }
    ++permutations;
  } while (std::next_permutation(order.begin(), order.end()));
  EXPECT_EQ(permutations, 720);
}

TEST(CallAssembly, PartOfAChainIsACallOfItsOwnUntilTheLegThatJoinsItArrives) {
  const std::vector<AssemblyLeg> chain = three_hop_chain();
  // Without lb1, {a, la1} and {la2, lb2, b} are two calls.
  std::vector<AssemblyLeg> legs = {chain[0], chain[1], chain[3], chain[4], chain[5]};
  std::vector<AssembledLeg> out = assemble_calls(legs);
  EXPECT_EQ(out[0].interaction_id, "a");
  EXPECT_EQ(out[1].interaction_id, "a");
  EXPECT_EQ(out[0].direction_class, "internal");
  EXPECT_NE(out[0].call, out[2].call);
  // The later group's root is its earliest leg that is not a loopback half: b,
  // which names lb2's uuid as its interaction.
  EXPECT_EQ(out[4].interaction_id, "lb2");
  EXPECT_TRUE(out[4].root);
  EXPECT_EQ(out[4].direction_class, "outbound");
  // lb1 arrives: one call.
  legs.push_back(chain[2]);
  out = assemble_calls(legs);
  for (const auto& o : out) EXPECT_EQ(o.interaction_id, "a");
  for (const auto& o : out) EXPECT_EQ(o.direction_class, "outbound");
  EXPECT_TRUE(out[0].root);
  EXPECT_FALSE(out[4].root);
}

TEST(CallAssembly, BLegAloneNamesTheALegsInteractionAndStandsForTheCallUntilItComes) {
  const std::vector<AssembledLeg> out = assemble_calls({leg("b", "a", {"a"}, 2000, false, "outbound", "gw1")});
  EXPECT_EQ(out[0].interaction_id, "a");
  EXPECT_TRUE(out[0].root);
  EXPECT_EQ(out[0].direction_class, "outbound");
}

TEST(CallAssembly, DirectionClassFromTheTrunkLegs) {
  // From a carrier to a user: inbound.
  auto out =
      assemble_calls({leg("a", "", {}, 1, false, "inbound", "carrier"), leg("b", "a", {"a"}, 2, false, "outbound")});
  EXPECT_EQ(out[0].direction_class, "inbound");
  EXPECT_EQ(out[1].direction_class, "inbound");
  // From a carrier to another carrier: transit.
  out = assemble_calls({leg("a", "", {}, 1, false, "inbound", "c1"), leg("b", "a", {"a"}, 2, false, "outbound", "c2")});
  EXPECT_EQ(out[0].direction_class, "transit");
  EXPECT_EQ(out[1].direction_class, "transit");
  // Two users: internal.
  out = assemble_calls({leg("a", "", {}, 1, false, "inbound"), leg("b", "a", {"a"}, 2, false, "outbound")});
  EXPECT_EQ(out[0].direction_class, "internal");
}

TEST(CallAssembly, CallsOfOtherAccountsAndUnrelatedLegsStayApart) {
  const auto out = assemble_calls({
      leg("a", "", {}, 1, false, "inbound"),
      leg("b", "a", {"a"}, 2, false, "outbound", "", "other"),  // another account names a's uuid
      leg("c", "", {}, 3, false, "inbound"),
  });
  EXPECT_EQ(out[0].interaction_id, "a");
  EXPECT_EQ(out[1].interaction_id, "a");  // its own (named) interaction, alone in its account
  EXPECT_NE(out[0].call, out[1].call);
  EXPECT_NE(out[0].call, out[2].call);
  EXPECT_EQ(out[2].interaction_id, "c");
  EXPECT_TRUE(out[1].root);
}

TEST(CallAssembly, TwoRowsOfOneLegAreOneLegAndAnImportKeepsItsOwnInteraction) {
  const auto out = assemble_calls({
      leg("x", "63682885544-1a2b3c4d", {"y"}, 5, false, "inbound"),
      leg("y", "63682885544-1a2b3c4d", {"x"}, 6, false, "outbound"),
      leg("x", "63682885544-1a2b3c4d", {}, 5, false, "inbound"),  // the same leg again (a richer source)
  });
  for (const auto& o : out) EXPECT_EQ(o.interaction_id, "63682885544-1a2b3c4d");
  EXPECT_TRUE(out[0].root);
  EXPECT_TRUE(out[2].root);
  EXPECT_FALSE(out[1].root);
}

TEST(CallAssembly, ALoopbackOnlyCallTakesItsEarliestHalfAsRoot) {
  const auto out =
      assemble_calls({leg("l2", "", {"l1"}, 9, true, "inbound"), leg("l1", "", {"l2"}, 8, true, "outbound")});
  EXPECT_EQ(out[0].interaction_id, "l1");
  EXPECT_TRUE(out[1].root);
}

TEST(CallAssembly, UnusableLinksNeverLink) {
  EXPECT_FALSE(usable_link(""));
  EXPECT_FALSE(usable_link(std::string(257, 'x')));
  EXPECT_FALSE(usable_link(std::string("a\0b", 3)));
  EXPECT_TRUE(usable_link(std::string(256, 'x')));
  const std::string big(300, 'z');
  const auto out = assemble_calls({leg("a", "", {big}, 1, false, "inbound"), leg("b", "", {big}, 2, false, "inbound")});
  EXPECT_NE(out[0].call, out[1].call);
}

}  // namespace
}  // namespace cdrd
