// The configuration key table (internal to daemon/config). One row per key:
// the member it fills, its kind and range, whether SIGHUP reloads it, and a
// one-line help. Keys of list items (freeswitch[], api.keys[]) have their own
// tables of the same shape, so the loader, the environment overrides,
// describe_config_keys() and config_reload_allowed() all read the same rows.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "daemon/config/config.h"

namespace cdrd::config_internal {

enum class Kind {
  // The scalar kinds come first: Key::scalar() relies on it.
  kString,      // any text (kNonEmpty: not "")
  kInt,         // integer in [min, max]
  kSize,        // bytes, or a number with a KiB/MiB/GiB suffix, in [min, max]
  kHostPort,    // "host:port" or "[v6]:port"
  kEnum,        // one of `choices`
  kChecked,     // text that `check` accepts; `choices` names its type ("CIDR", "region")
  kStringList,  // YAML sequence of strings
  kStringMap,   // YAML map of string -> string (each value passed to `check` when set)
  kItemList,    // YAML sequence of maps, each walked against item_keys<Item>()
};

enum Flags : unsigned {
  kNoFlags = 0,
  kNonEmpty = 1,  // a string or list that may not be empty
  kRequired = 2,  // an item key that every item must set
  kUnique = 4,    // an item key whose value must differ between the items of a list
};

template <class Owner>
using Member = std::variant<std::string Owner::*, int Owner::*, uint64_t Owner::*, std::vector<std::string> Owner::*,
                            std::map<std::string, std::string> Owner::*, std::vector<FreeswitchNode> Owner::*,
                            std::vector<ApiKey> Owner::*, std::vector<TrunkNetwork> Owner::*>;

// The item types of kItemList keys.
template <class T>
inline constexpr bool kIsItemList =
    std::is_same_v<T, std::vector<FreeswitchNode>> || std::is_same_v<T, std::vector<ApiKey>> ||
    std::is_same_v<T, std::vector<TrunkNetwork>>;

template <class Owner>
struct Key {
  std::string_view path;  // dotted path from the owner: "batch.max_rows", or "port" inside an item
  Kind kind;
  Member<Owner> member;
  bool reloadable;
  std::string_view help;
  int64_t min = 0;  // kInt, kSize
  int64_t max = 0;
  std::string_view choices;  // kEnum: "text|json"; kChecked, kStringMap with `check`: the values' type name
  unsigned flags = kNoFlags;
  // kChecked, kStringMap: "" when a value is valid, else why not ("expected ...").
  std::string (*check)(std::string_view) = nullptr;

  bool has(Flags f) const { return (flags & f) != 0; }
  bool scalar() const { return kind <= Kind::kChecked; }
};

const std::vector<Key<Config>>& config_keys();
template <class Item>
const std::vector<Key<Item>>& item_keys();
template <>
const std::vector<Key<FreeswitchNode>>& item_keys<FreeswitchNode>();
template <>
const std::vector<Key<ApiKey>>& item_keys<ApiKey>();
template <>
const std::vector<Key<TrunkNetwork>>& item_keys<TrunkNetwork>();

// "CDRD_" + the path in capitals with '_' for '.': CDRD_BATCH_MAX_ROWS.
std::string environment_name(std::string_view path);

}  // namespace cdrd::config_internal
