#include "daemon/core/call_assembly.h"

#include <numeric>
#include <tuple>
#include <unordered_map>

namespace cdrd {
namespace {

// Longer than any uuid or Kazoo id by far, and well under a btree entry's limit.
constexpr size_t kMaxLinkBytes = 256;

class DisjointSets {
 public:
  explicit DisjointSets(size_t n) : parent_(n) { std::iota(parent_.begin(), parent_.end(), size_t{0}); }
  size_t find(size_t x) {
    while (parent_[x] != x) {
      parent_[x] = parent_[parent_[x]];
      x = parent_[x];
    }
    return x;
  }
  void unite(size_t a, size_t b) {
    a = find(a);
    b = find(b);
    if (a != b) parent_[std::max(a, b)] = std::min(a, b);
  }

 private:
  std::vector<size_t> parent_;
};

std::string key_of(const std::string& account, const std::string& link) {
  std::string key;
  key.reserve(account.size() + link.size() + 1);
  key.append(account).push_back('\0');
  key.append(link);
  return key;
}

// Earlier start first; an internal loopback half only when the call has no other leg.
bool better_root(const AssemblyLeg& a, const AssemblyLeg& b) {
  return std::make_tuple(a.is_loopback, a.started_us, a.call_id) <
         std::make_tuple(b.is_loopback, b.started_us, b.call_id);
}

}  // namespace

bool usable_link(const std::string& link) {
  return !link.empty() && link.size() <= kMaxLinkBytes && link.find('\0') == std::string::npos;
}

std::vector<AssembledLeg> assemble_calls(const std::vector<AssemblyLeg>& legs) {
  DisjointSets sets(legs.size());
  std::unordered_map<std::string, size_t> first_with_link;
  auto link = [&](size_t i, const std::string& uuid) {
    if (!usable_link(uuid)) return;
    const auto [it, fresh] = first_with_link.emplace(key_of(legs[i].account_id, uuid), i);
    if (!fresh) sets.unite(it->second, i);
  };
  for (size_t i = 0; i < legs.size(); ++i) {
    // The call_id always links, even past kMaxLinkBytes: two rows of one leg are one leg.
    const auto [it, fresh] = first_with_link.emplace(key_of(legs[i].account_id, "\x01" + legs[i].call_id), i);
    if (!fresh) sets.unite(it->second, i);
    link(i, legs[i].call_id);
    link(i, legs[i].leg_interaction_id);
    for (const std::string& uuid : legs[i].links) link(i, uuid);
  }

  struct Call {
    size_t root = 0;
    bool from_trunk = false;
    bool to_trunk = false;
    size_t index = 0;
  };
  std::unordered_map<size_t, Call> calls;
  for (size_t i = 0; i < legs.size(); ++i) {
    const size_t set = sets.find(i);
    auto [it, fresh] = calls.emplace(set, Call{i, false, false, calls.size()});
    Call& call = it->second;
    if (!fresh && better_root(legs[i], legs[call.root])) call.root = i;
    if (!legs[i].trunk.empty()) {
      if (legs[i].call_direction == "inbound") call.from_trunk = true;
      if (legs[i].call_direction == "outbound") call.to_trunk = true;
    }
  }

  std::vector<AssembledLeg> out(legs.size());
  for (size_t i = 0; i < legs.size(); ++i) {
    const Call& call = calls.at(sets.find(i));
    const AssemblyLeg& root = legs[call.root];
    AssembledLeg& r = out[i];
    r.interaction_id = root.leg_interaction_id.empty() ? root.call_id : root.leg_interaction_id;
    r.direction_class = call.from_trunk && call.to_trunk ? "transit"
                        : call.from_trunk                ? "inbound"
                        : call.to_trunk                  ? "outbound"
                                                         : "internal";
    r.root = root.call_id == legs[i].call_id;
    r.call = call.index;
  }
  return out;
}

}  // namespace cdrd
