// An ESL event: the body of a text/event-plain frame (header lines
// "Name: percent-encoded value", an empty line, then the event's own body of
// the event's Content-Length bytes) or of a text/event-json frame (one JSON
// object of strings; "_body" holds the event's own body).
//
// A hangup event has some 300 headers. They are kept as spans of one buffer
// (names and decoded values back to back) instead of a pair of strings each:
// the allocations of those strings were a third of the time of a whole
// normalization. Spans are offsets, so an event copies and moves safely.
#pragma once

#include <cstddef>
#include <cstring>
#include <iterator>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "adapters/freeswitch/esl_frame.h"

namespace cdrd {

// One header of an event; both views point into the EslHeaders it came from.
struct EslHeader {
  std::string_view name;
  std::string_view value;

  bool operator==(const EslHeader& other) const { return name == other.name && value == other.value; }
  bool operator!=(const EslHeader& other) const { return !(*this == other); }
  // Lets tests compare a header with {"Name", "value"}.
  template <typename Name, typename Value>
  bool operator==(const std::pair<Name, Value>& other) const {
    return name == other.first && value == other.second;
  }
  friend std::ostream& operator<<(std::ostream& out, const EslHeader& h) {
    return out << '{' << h.name << ": " << h.value << '}';
  }
};

// The headers of one event in order (a name may repeat).
class EslHeaders {
 public:
  class const_iterator {
   public:
    using value_type = EslHeader;
    using difference_type = std::ptrdiff_t;
    using reference = EslHeader;
    using pointer = void;
    using iterator_category = std::input_iterator_tag;

    const_iterator(const EslHeaders* headers, size_t index) : headers_(headers), index_(index) {}
    EslHeader operator*() const { return (*headers_)[index_]; }
    const_iterator& operator++() {
      ++index_;
      return *this;
    }
    bool operator==(const const_iterator& other) const { return index_ == other.index_; }
    bool operator!=(const const_iterator& other) const { return index_ != other.index_; }

   private:
    const EslHeaders* headers_;
    size_t index_;
  };
  using iterator = const_iterator;
  using value_type = EslHeader;

  EslHeaders() = default;
  EslHeaders(const EslHeaders& other);
  EslHeaders& operator=(const EslHeaders& other);
  EslHeaders(EslHeaders&&) noexcept = default;
  EslHeaders& operator=(EslHeaders&&) noexcept = default;
  ~EslHeaders() = default;

  size_t size() const { return spans_.size(); }
  bool empty() const { return spans_.empty(); }
  EslHeader operator[](size_t i) const { return {name(i), value(i)}; }
  // The parts of header i: in hot loops these stay in registers, where an
  // EslHeader (four words) goes through memory.
  std::string_view name(size_t i) const { return {text_.get() + spans_[i].offset, spans_[i].name_size}; }
  std::string_view value(size_t i) const {
    const Span& s = spans_[i];
    return {text_.get() + s.offset + s.name_size, s.value_size};
  }
  const_iterator begin() const { return {this, 0}; }
  const_iterator end() const { return {this, spans_.size()}; }

  // Room for `bytes` of names and values and `count` headers.
  void reserve(size_t bytes, size_t count) {
    if (capacity_ - used_ < bytes) grow(bytes);
    spans_.reserve(count);
  }
  void add(std::string_view name, std::string_view value) {
    char* out = room(name.size() + value.size());
    std::memcpy(out, name.data(), name.size());
    std::memcpy(out + name.size(), value.data(), value.size());
    add_span(name.size(), value.size());
  }
  // Adds `name` with `value` percent-decoded (a '+' stays a '+').
  void add_percent_decoded(std::string_view name, std::string_view value);
  void clear() {
    used_ = 0;
    spans_.clear();
  }

  friend bool operator==(const EslHeaders& a, const EslHeaders& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      if (a[i] != b[i]) return false;
    }
    return true;
  }
  friend bool operator!=(const EslHeaders& a, const EslHeaders& b) { return !(a == b); }

 private:
  struct Span {
    size_t offset;  // of the name in text_; the value follows it
    size_t name_size;
    size_t value_size;
  };
  // Room for `bytes` more at the end of the used text. Headers are written
  // into it in place: no call into std::string per header, and no zero-fill
  // of the room first (as std::string::resize() would).
  char* room(size_t bytes) {
    if (capacity_ - used_ < bytes) grow(bytes);
    return text_.get() + used_;
  }
  void grow(size_t bytes);
  // Records the header just written at used_ (see ChannelVariables::add
  // for why not push_back({...})).
  void add_span(size_t name_size, size_t value_size) {
    Span& span = spans_.emplace_back();
    span.offset = used_;
    span.name_size = name_size;
    span.value_size = value_size;
    used_ += name_size + value_size;
  }

  std::unique_ptr<char[]> text_;  // names and values back to back in [0, used_)
  size_t capacity_ = 0;
  size_t used_ = 0;
  std::vector<Span> spans_;
};

struct EslEvent {
  // Event headers in order, values percent-decoded (a '+' stays a '+').
  // Channel variables are the headers named "variable_<name>".
  EslHeaders headers;
  std::string body;  // the event's own body (rare for hangup events)
  std::string raw;   // the frame body exactly as received, kept as the CDR's raw document
  // The first value of `name`, "" when absent.
  std::string_view header(std::string_view name) const;
  std::string_view name() const { return header("Event-Name"); }
};

// Parses the body of a text/event-plain or text/event-json frame. False with
// *error (naming the line or the JSON offset) when it is not an event.
bool parse_esl_event(const EslFrame& frame, EslEvent* out, std::string* error);

}  // namespace cdrd
