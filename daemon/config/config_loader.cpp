// Walks the YAML document against the key table. The first problem found, in
// document order, ends the load; its message names the file, the line and the
// full key path ("cdrd.yaml:4: unknown key 'batch.max_rowz'").
#include <errno.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <filesystem>
#include <set>
#include <stdexcept>

#include "daemon/config/config.h"
#include "daemon/config/config_env.h"
#include "daemon/config/config_keys.h"
#include "daemon/config/config_values.h"
#include "daemon/ingest/ingest_guard.h"

namespace cdrd {
namespace {

using config_internal::Key;
using config_internal::Kind;
using config_internal::ValueOrigins;

// Internal only: unwinding out of a nested walk is simpler than threading a
// status through every level; load_config_text() turns it into *error.
struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

const char* node_kind(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Null:
      return "nothing";
    default:
      return "a scalar";
  }
}

class Walker {
 public:
  explicit Walker(std::string name) : name_(std::move(name)) {}

  void walk_document(const YAML::Node& doc, Config* out, ValueOrigins* origins) {
    origins_ = origins;
    if (doc.IsNull()) return;  // an empty file: every key keeps its default
    if (!doc.IsMap())
      fail(line_of(doc, 1), fmt::format("expected a map of keys at the top level, got {}", node_kind(doc)));
    walk_map(doc, "", "", config_internal::config_keys(), out, line_of(doc, 1));
  }

 private:
  [[noreturn]] void fail(int line, const std::string& message) const {
    throw ConfigError(fmt::format("{}:{}: {}", name_, line, message));
  }

  static int line_of(const YAML::Node& node, int fallback) {
    const YAML::Mark mark = node.Mark();
    return mark.is_null() ? fallback : mark.line + 1;
  }

  // `section` is the table path walked so far ("database.embedded."); the
  // message path is `display` + the table path ("freeswitch[1]." + "port").
  template <class Owner>
  void walk_map(const YAML::Node& map, const std::string& display, const std::string& section,
                const std::vector<Key<Owner>>& keys, Owner* owner, int line, std::set<std::string>* seen = nullptr) {
    std::set<std::string> local_seen;
    if (!seen) seen = &local_seen;
    for (const auto& entry : map) {
      const int key_line = line_of(entry.first, line);
      if (!entry.first.IsScalar()) fail(key_line, fmt::format("expected a key name, got {}", node_kind(entry.first)));
      const std::string path = section + entry.first.Scalar();
      const std::string shown = display + path;
      if (!seen->insert(path).second) fail(key_line, fmt::format("duplicate key '{}'", shown));
      const Key<Owner>* key = find(keys, path);
      if (key) {
        if (origins_ && display.empty()) (*origins_)[path] = fmt::format("{}:{}", name_, key_line);
        parse_value(*key, entry.second, shown, key_line, owner);
      } else if (is_section(keys, path)) {
        if (entry.second.IsNull()) continue;  // every key of the section commented out
        if (!entry.second.IsMap())
          fail(key_line, fmt::format("{}: expected a map, got {}", shown, node_kind(entry.second)));
        walk_map(entry.second, display, path + ".", keys, owner, key_line, seen);
      } else {
        fail(key_line, fmt::format("unknown key '{}'", shown));
      }
    }
  }

  template <class Owner>
  static const Key<Owner>* find(const std::vector<Key<Owner>>& keys, const std::string& path) {
    for (const Key<Owner>& key : keys) {
      if (key.path == path) return &key;
    }
    return nullptr;
  }

  template <class Owner>
  static bool is_section(const std::vector<Key<Owner>>& keys, const std::string& path) {
    for (const Key<Owner>& key : keys) {
      if (key.path.size() > path.size() && key.path.compare(0, path.size(), path) == 0 &&
          key.path[path.size()] == '.') {
        return true;
      }
    }
    return false;
  }

  template <class Owner>
  void parse_value(const Key<Owner>& key, const YAML::Node& value, const std::string& shown, int line, Owner* owner) {
    const auto expect = [&](bool ok) {
      if (!ok) {
        fail(line, fmt::format("{}: expected {}, got {}", shown, config_internal::expected_text(key.kind, key.choices),
                               node_kind(value)));
      }
    };
    if (key.scalar()) {
      expect(value.IsScalar());
      const std::string problem = config_internal::set_scalar(key, value.Scalar(), owner);
      if (!problem.empty()) fail(line_of(value, line), shown + ": " + problem);
      return;
    }
    expect(value.IsNull() || (key.kind == Kind::kStringMap ? value.IsMap() : value.IsSequence()));
    std::visit(
        [&](auto member) {
          auto& target = owner->*member;
          using T = std::decay_t<decltype(target)>;
          if constexpr (std::is_same_v<T, std::vector<std::string>>) {
            target = parse_strings(value, shown, line);
            if (key.has(config_internal::kNonEmpty) && target.empty()) fail(line, shown + ": must not be empty");
          } else if constexpr (std::is_same_v<T, std::map<std::string, std::string>>) {
            target = parse_string_map(value, shown, line, key.check);
          } else if constexpr (config_internal::kIsItemList<T>) {
            target = parse_items<typename T::value_type>(value, shown, line);
          }
        },
        key.member);
  }

  std::vector<std::string> parse_strings(const YAML::Node& list, const std::string& shown, int line) {
    std::vector<std::string> out;
    int i = 0;
    for (const YAML::Node& item : list) {
      if (!item.IsScalar())
        fail(line_of(item, line), fmt::format("{}[{}]: expected a string, got {}", shown, i, node_kind(item)));
      out.push_back(item.Scalar());
      ++i;
    }
    return out;
  }

  std::map<std::string, std::string> parse_string_map(const YAML::Node& map, const std::string& shown, int line,
                                                      std::string (*check)(std::string_view)) {
    std::map<std::string, std::string> out;
    for (const auto& entry : map) {
      const int entry_line = line_of(entry.first, line);
      if (!entry.first.IsScalar())
        fail(entry_line, fmt::format("{}: expected a key name, got {}", shown, node_kind(entry.first)));
      const std::string shown_entry = fmt::format("{}[{}]", shown, entry.first.Scalar());
      if (!entry.second.IsScalar()) {
        fail(entry_line, fmt::format("{}: expected a string, got {}", shown_entry, node_kind(entry.second)));
      }
      if (check) {
        const std::string problem = check(entry.second.Scalar());
        if (!problem.empty()) fail(line_of(entry.second, entry_line), shown_entry + ": " + problem);
      }
      if (!out.emplace(entry.first.Scalar(), entry.second.Scalar()).second) {
        fail(entry_line, fmt::format("duplicate key '{}'", shown_entry));
      }
    }
    return out;
  }

  template <class Item>
  std::vector<Item> parse_items(const YAML::Node& list, const std::string& shown, int line) {
    const auto& keys = config_internal::item_keys<Item>();
    std::vector<Item> out;
    for (const YAML::Node& node : list) {
      const std::string shown_item = fmt::format("{}[{}]", shown, out.size());
      const int item_line = line_of(node, line);
      if (!node.IsMap()) fail(item_line, fmt::format("{}: expected a map, got {}", shown_item, node_kind(node)));
      Item item;
      std::set<std::string> seen;
      walk_map(node, shown_item + ".", "", keys, &item, item_line, &seen);
      for (const Key<Item>& key : keys) {
        if (key.has(config_internal::kRequired) && !seen.count(std::string(key.path))) {
          fail(item_line, fmt::format("{}: missing required key '{}'", shown_item, key.path));
        }
        if (!key.has(config_internal::kUnique)) continue;
        for (size_t j = 0; j < out.size(); ++j) {
          if (config_internal::same_value(key, item, out[j])) {
            // The value is not repeated: for api.keys it is a secret.
            fail(item_line,
                 fmt::format("{}.{}: must be unique, same as {}[{}].{}", shown_item, key.path, shown, j, key.path));
          }
        }
      }
      out.push_back(std::move(item));
    }
    return out;
  }

  std::string name_;
  ValueOrigins* origins_ = nullptr;
};

std::string where(const ValueOrigins& origins, const std::string& path, const std::string& name) {
  const auto it = origins.find(path);
  return it != origins.end() ? it->second : name;
}

// Rules between keys, and values resolved at load.
bool finish(const std::string& name, const ValueOrigins& origins, Config* config, std::string* error) {
  if (config->spool_segment_bytes >= config->spool_max_bytes) {
    const std::string at = origins.count("spool.segment_bytes") ? where(origins, "spool.segment_bytes", name)
                                                                : where(origins, "spool.max_bytes", name);
    *error = fmt::format("{}: spool.segment_bytes: must be less than spool.max_bytes ({}), got {}", at,
                         config_internal::format_size(config->spool_max_bytes),
                         config_internal::format_size(config->spool_segment_bytes));
    return false;
  }
  // Listener TLS: a certificate needs its key and the other way round; the
  // files themselves are read by --check-config and at start (tls_context.h).
  auto tls_pair_ok = [&](const std::string& prefix, const std::string& cert, const std::string& key) {
    const std::string cert_key = prefix + "_tls_cert";
    const std::string key_key = prefix + "_tls_key";
    if (cert.empty() != key.empty()) {
      const std::string& set_key = cert.empty() ? key_key : cert_key;
      *error = fmt::format("{}: {} and {} go together: {} is set, {} is not", where(origins, set_key, name), cert_key,
                           key_key, set_key, cert.empty() ? cert_key : key_key);
      return false;
    }
    return true;
  };
  if (!tls_pair_ok("listen.http", config->listen_http_tls_cert, config->listen_http_tls_key) ||
      !tls_pair_ok("listen.api", config->listen_api_tls_cert, config->listen_api_tls_key)) {
    return false;
  }
  if (!config->listen_api_tls_cert.empty() && config->listen_api.empty()) {
    *error = fmt::format("{}: listen.api_tls_cert is set but listen.api is \"\" (no separate read API listener)",
                         where(origins, "listen.api_tls_cert", name));
    return false;
  }
  {
    IngestGuard guard;
    std::string why;
    if (!IngestGuard::make({}, config->ingest_allow_from, &guard, &why)) {
      *error = fmt::format("{}: {}", where(origins, "ingest.allow_from", name), why);
      return false;
    }
  }
  for (size_t i = 0; i < config->api_dialects.size(); ++i) {
    const std::string& d = config->api_dialects[i];
    const bool known = d == "kazoo" || d == "portsip" || d == "wavix" || d == "yeti";
    const bool repeated =
        std::find(config->api_dialects.begin(), config->api_dialects.begin() + static_cast<std::ptrdiff_t>(i), d) !=
        config->api_dialects.begin() + static_cast<std::ptrdiff_t>(i);
    if (!known || repeated) {
      *error = fmt::format("{}: api.dialects: {} '{}'; each of kazoo, portsip, wavix, yeti at most once",
                           where(origins, "api.dialects", name), known ? "repeated dialect" : "unknown dialect", d);
      return false;
    }
  }
  // Absolute from here on: the embedded server is told its socket directory
  // as libpq's host=, which names a socket directory only when it starts
  // with '/', and its children may run with another working directory.
  std::error_code ec;
  const std::filesystem::path state = std::filesystem::absolute(config->state_dir, ec);
  if (ec) {
    *error = fmt::format("{}: state_dir: cannot make '{}' absolute: {}", where(origins, "state_dir", name),
                         config->state_dir, ec.message());
    return false;
  }
  config->state_dir = state.lexically_normal().string();
  if (config->state_dir.size() > 1 && config->state_dir.back() == '/') config->state_dir.pop_back();
  if (config->node_name.empty()) {
    char host[HOST_NAME_MAX + 1] = {};
    if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0') {
      *error = fmt::format("{}: node_name: not set and the hostname is unknown: {}", name, std::strerror(errno));
      return false;
    }
    config->node_name = host;
  }
  return true;
}

}  // namespace

bool load_config_text(const std::string& yaml, const std::string& name, const std::vector<std::string>& environment,
                      Config* out, std::string* error) {
  Config config;
  ValueOrigins origins;
  try {
    Walker(name).walk_document(YAML::Load(yaml), &config, &origins);
  } catch (const ConfigError& e) {
    *error = e.what();
    return false;
  } catch (const YAML::Exception& e) {
    *error =
        e.mark.is_null() ? fmt::format("{}: {}", name, e.msg) : fmt::format("{}:{}: {}", name, e.mark.line + 1, e.msg);
    return false;
  }
  if (!config_internal::apply_environment(environment, &config, &origins, error)) return false;
  if (!finish(name, origins, &config, error)) return false;
  *out = std::move(config);
  return true;
}

bool load_config(const std::string& path, const std::vector<std::string>& environment, Config* out,
                 std::string* error) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *error = fmt::format("{}: {}", path, std::strerror(errno));
    return false;
  }
  std::string text;
  char buf[8192];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      *error = fmt::format("{}: {}", path, std::strerror(errno));
      ::close(fd);
      return false;
    }
    text.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return load_config_text(text, path, environment, out, error);
}

}  // namespace cdrd
