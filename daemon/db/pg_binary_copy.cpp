#include "daemon/db/pg_binary_copy.h"

#include <libpq-fe.h>

#include <pqxx/except>
#include <pqxx/largeobject>

#include <string>

namespace cdrd {
namespace {

// PostgreSQL's epoch, 2000-01-01 00:00:00 UTC, in Unix microseconds.
constexpr int64_t kPgEpochUnixUs = 946684800LL * 1000000LL;
constexpr size_t kChunkBytes = size_t{256} * 1024;
constexpr uint16_t kNumericPositive = 0x0000;
constexpr uint16_t kNumericNegative = 0x4000;
// More digits than any charge has; keeps weight and dscale far inside int16.
constexpr size_t kMaxNumericDigits = 1000;

// libpqxx keeps the PGconn of a transaction to itself; pqxx::largeobject
// hands it to its subclasses (the only public way in libpqxx 6.4).
class RawConnection : public pqxx::largeobject {
 public:
  static PGconn* of(const pqxx::dbtransaction& tx) { return largeobject::raw_connection(tx); }
};

std::string connection_error(PGconn* conn) {
  std::string text = PQerrorMessage(conn);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

}  // namespace

void BinaryRowEncoder::put16(uint16_t v) {
  const char b[2] = {static_cast<char>(v >> 8), static_cast<char>(v)};
  out_.append(b, 2);
}

void BinaryRowEncoder::put32(uint32_t v) {
  const char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
                     static_cast<char>(v)};
  out_.append(b, 4);
}

void BinaryRowEncoder::put64(uint64_t v) {
  put32(static_cast<uint32_t>(v >> 32));
  put32(static_cast<uint32_t>(v));
}

void BinaryRowEncoder::header() {
  static constexpr char kSignature[] = "PGCOPY\n\377\r\n";  // 11 bytes with its NUL
  out_.append(kSignature, sizeof kSignature);
  put32(0);  // flags: no OIDs
  put32(0);  // header extension length
}

void BinaryRowEncoder::begin_row(int16_t fields) { put16(static_cast<uint16_t>(fields)); }

void BinaryRowEncoder::null() { put32(0xffffffffU); }

void BinaryRowEncoder::text(std::string_view value) {
  put32(static_cast<uint32_t>(value.size()));
  out_.append(value.data(), value.size());
}

void BinaryRowEncoder::text(const std::optional<std::string>& value) {
  if (value) {
    text(std::string_view(*value));
  } else {
    null();
  }
}

void BinaryRowEncoder::int32(int32_t value) {
  put32(4);
  put32(static_cast<uint32_t>(value));
}

void BinaryRowEncoder::int64(int64_t value) {
  put32(8);
  put64(static_cast<uint64_t>(value));
}

void BinaryRowEncoder::boolean(bool value) {
  put32(1);
  out_.push_back(value ? '\1' : '\0');
}

void BinaryRowEncoder::timestamptz(int64_t unix_us) { int64(unix_us - kPgEpochUnixUs); }

void BinaryRowEncoder::timestamptz(const std::optional<int64_t>& unix_us) {
  if (unix_us) {
    timestamptz(*unix_us);
  } else {
    null();
  }
}

void BinaryRowEncoder::jsonb(std::string_view head, std::string_view middle, std::string_view tail) {
  put32(static_cast<uint32_t>(1 + head.size() + middle.size() + tail.size()));
  out_.push_back('\1');  // jsonb binary format version
  out_.append(head.data(), head.size());
  out_.append(middle.data(), middle.size());
  out_.append(tail.data(), tail.size());
}

bool BinaryRowEncoder::numeric(std::string_view decimal) {
  size_t pos = 0;
  bool negative = false;
  if (pos < decimal.size() && (decimal[pos] == '-' || decimal[pos] == '+')) negative = decimal[pos++] == '-';
  const size_t int_begin = pos;
  while (pos < decimal.size() && decimal[pos] >= '0' && decimal[pos] <= '9') ++pos;
  std::string_view int_part = decimal.substr(int_begin, pos - int_begin);
  std::string_view frac_part;
  if (pos < decimal.size() && decimal[pos] == '.') {
    const size_t frac_begin = ++pos;
    while (pos < decimal.size() && decimal[pos] >= '0' && decimal[pos] <= '9') ++pos;
    frac_part = decimal.substr(frac_begin, pos - frac_begin);
  }
  if (pos != decimal.size() || (int_part.empty() && frac_part.empty()) ||
      int_part.size() + frac_part.size() > kMaxNumericDigits) {
    return false;
  }
  while (!int_part.empty() && int_part.front() == '0') int_part.remove_prefix(1);

  // Base-10000 digits aligned on the decimal point: the integer part padded
  // on the left, the fraction on the right, to whole groups of four.
  std::vector<uint16_t> groups;
  const size_t int_groups = (int_part.size() + 3) / 4;
  std::string padded(int_groups * 4 - int_part.size(), '0');
  padded.append(int_part);
  padded.append(frac_part);
  padded.append((4 - frac_part.size() % 4) % 4, '0');
  for (size_t i = 0; i < padded.size(); i += 4) {
    groups.push_back(static_cast<uint16_t>((padded[i] - '0') * 1000 + (padded[i + 1] - '0') * 100 +
                                           (padded[i + 2] - '0') * 10 + (padded[i + 3] - '0')));
  }
  auto weight = static_cast<int>(int_groups) - 1;
  size_t first = 0;
  while (first < groups.size() && groups[first] == 0) {
    ++first;
    --weight;
  }
  size_t last = groups.size();
  while (last > first && groups[last - 1] == 0) --last;
  const size_t ndigits = last - first;
  if (ndigits == 0) {
    weight = 0;
    negative = false;
  }

  put32(static_cast<uint32_t>(8 + 2 * ndigits));
  put16(static_cast<uint16_t>(ndigits));
  put16(static_cast<uint16_t>(static_cast<int16_t>(weight)));
  put16(negative ? kNumericNegative : kNumericPositive);
  put16(static_cast<uint16_t>(frac_part.size()));  // dscale: the digits written after the point
  for (size_t i = first; i < last; ++i) put16(groups[i]);
  return true;
}

void BinaryRowEncoder::trailer() { put16(0xffff); }

BinaryCopyIn::BinaryCopyIn(pqxx::dbtransaction& tx, const std::string& table, const std::vector<std::string>& columns)
    : conn_(RawConnection::of(tx)) {
  command_ = "COPY " + table + " (";
  for (size_t i = 0; i < columns.size(); ++i) command_ += (i == 0 ? "" : ", ") + columns[i];
  command_ += ") FROM STDIN (FORMAT binary)";
  // Through libpqxx, so a savepoint the transaction still owes is sent
  // first; the result is PGRES_COPY_IN, which libpqxx accepts as success.
  tx.exec(command_);
  open_ = true;
  // One allocation per COPY: a chunk plus one more row of the ~15 KB kind
  // before it is sent, rather than doubling up to it every batch.
  encoder_.reserve(kChunkBytes + size_t{64} * 1024);
  encoder_.header();
}

BinaryCopyIn::~BinaryCopyIn() {
  if (!open_) return;
  try {
    finish("cdrd abandoned this COPY");
  } catch (...) {  // NOLINT(bugprone-empty-catch): a cancelled COPY throws nothing but std::bad_alloc
  }
}

void BinaryCopyIn::end_row() {
  if (encoder_.size() >= kChunkBytes) send();
}

void BinaryCopyIn::send() {
  auto* conn = static_cast<PGconn*>(conn_);
  const std::string& bytes = encoder_.bytes();
  if (!bytes.empty() && PQputCopyData(conn, bytes.data(), static_cast<int>(bytes.size())) != 1) {
    const std::string error = connection_error(conn);
    finish("cdrd could not send the data");
    throw pqxx::broken_connection("COPY data could not be sent: " + error);
  }
  encoder_.clear();
}

void BinaryCopyIn::complete() {
  encoder_.trailer();
  send();
  finish(nullptr);
}

// Ends the COPY (cancelled when `cancel_reason` is set) and collects every
// result, so the connection is ready for the transaction's next statement.
// Throws the COPY's error only when it was not cancelled.
void BinaryCopyIn::finish(const char* cancel_reason) {
  open_ = false;
  auto* conn = static_cast<PGconn*>(conn_);
  if (PQputCopyEnd(conn, cancel_reason) != 1) {
    if (cancel_reason != nullptr) return;
    throw pqxx::broken_connection("COPY could not be ended: " + connection_error(conn));
  }
  std::string error;
  std::string sqlstate;
  bool failed = false;
  while (PGresult* r = PQgetResult(conn)) {
    if (PQresultStatus(r) != PGRES_COMMAND_OK && !failed) {
      failed = true;
      error = PQresultErrorMessage(r);
      const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
      if (state != nullptr) sqlstate = state;
    }
    PQclear(r);
  }
  if (!failed || cancel_reason != nullptr) return;
  while (!error.empty() && (error.back() == '\n' || error.back() == ' ')) error.pop_back();
  if (PQstatus(conn) == CONNECTION_BAD) throw pqxx::broken_connection(error);
  throw pqxx::sql_error(error, command_, sqlstate.empty() ? nullptr : sqlstate.c_str());
}

}  // namespace cdrd
