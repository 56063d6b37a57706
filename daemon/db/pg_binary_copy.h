// COPY ... FROM STDIN (FORMAT binary) for the writer's rows, written by cdrd
// itself over the transaction's libpq connection.
//
// Why not pqxx::stream_to: libpqxx 6.4 only speaks COPY text and escapes it
// byte by byte (TypedCopyEscaper was 14% of cdrd's CPU under load, issue
// 14), and PostgreSQL then parses every integer and time back from text.
// Binary COPY sends each value as PostgreSQL's own wire format: text and
// jsonb bytes verbatim (jsonb: one version byte first), integers big-endian,
// times as microseconds since 2000-01-01, numerics as base-10000 digits.
//
// BinaryRowEncoder is pure (unit-tested byte by byte); BinaryCopyIn sends
// what it encodes in chunks of about 256 KB, so a batch never sits in memory
// twice. The server still checks every value (UTF-8 of text, jsonb syntax,
// the table's constraints): a bad value fails the COPY with its SQLSTATE,
// thrown as a pqxx::sql_error so classify_db_error() sees it as usual.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <pqxx/dbtransaction>

namespace cdrd {

class BinaryRowEncoder {
 public:
  // The 19-byte header every binary COPY stream starts with.
  void header();
  // Starts a tuple of `fields` values; exactly that many calls follow.
  void begin_row(int16_t fields);
  void null();
  void text(std::string_view value);
  void text(const std::string& value) { text(std::string_view(value)); }
  void text(const char* value) { text(std::string_view(value)); }
  void text(const std::optional<std::string>& value);  // null when absent
  void int32(int32_t value);
  void int64(int64_t value);
  void boolean(bool value);
  // Microseconds since the Unix epoch (UTC) as timestamptz.
  void timestamptz(int64_t unix_us);
  void timestamptz(const std::optional<int64_t>& unix_us);  // null when absent
  // jsonb, version 1: the three pieces one after the other (a record, the
  // fields call assembly splices in, its closing brace: never joined first).
  void jsonb(std::string_view head, std::string_view middle = {}, std::string_view tail = {});
  // A plain decimal ("-12.3400", "7", ".5"): false, and nothing written, for
  // anything else.
  bool numeric(std::string_view decimal);
  // The trailer: a field count of -1.
  void trailer();

  const std::string& bytes() const { return out_; }
  size_t size() const { return out_.size(); }
  void clear() { out_.clear(); }
  void reserve(size_t bytes) { out_.reserve(bytes); }

 private:
  void put16(uint16_t v);
  void put32(uint32_t v);
  void put64(uint64_t v);
  std::string out_;
};

// One COPY FROM STDIN (FORMAT binary) in `tx`. Each value goes to
// encoder(); end_row() after each row sends whatever has gathered past the
// chunk size. complete() ends the COPY and throws what PostgreSQL said of it
// (pqxx::sql_error with its SQLSTATE, pqxx::broken_connection when the
// connection is gone). A BinaryCopyIn destroyed before complete() cancels
// its COPY, which fails the transaction (or savepoint) it ran in.
class BinaryCopyIn {
 public:
  BinaryCopyIn(pqxx::dbtransaction& tx, const std::string& table, const std::vector<std::string>& columns);
  ~BinaryCopyIn();
  BinaryCopyIn(const BinaryCopyIn&) = delete;
  BinaryCopyIn& operator=(const BinaryCopyIn&) = delete;

  BinaryRowEncoder& encoder() { return encoder_; }
  void end_row();
  void complete();

 private:
  void send();
  void finish(const char* cancel_reason);
  void* conn_;  // PGconn*, kept opaque so this header does not pull in libpq-fe.h
  std::string command_;
  BinaryRowEncoder encoder_;
  bool open_ = false;
};

}  // namespace cdrd
