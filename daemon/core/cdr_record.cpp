#include "daemon/core/cdr_record.h"

#include <cstdint>
#include <cstring>

namespace cdrd {
namespace {

constexpr char kMagic[4] = {'C', 'D', 'R', '1'};

void put_chunk(std::string* out, std::string_view chunk) {
  const auto n = static_cast<uint32_t>(chunk.size());
  const char len[4] = {static_cast<char>(n & 0xff), static_cast<char>((n >> 8) & 0xff),
                       static_cast<char>((n >> 16) & 0xff), static_cast<char>((n >> 24) & 0xff)};
  out->append(len, 4);
  out->append(chunk.data(), chunk.size());
}

bool get_chunk(std::string_view* in, std::string* out) {
  if (in->size() < 4) return false;
  const auto* p = reinterpret_cast<const unsigned char*>(in->data());
  const uint32_t n = p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<uint32_t>(p[3]) << 24);
  in->remove_prefix(4);
  if (in->size() < n) return false;
  out->assign(in->data(), n);
  in->remove_prefix(n);
  return true;
}

}  // namespace

std::string encode_spool_payload(const CdrRecord& record) {
  std::string out;
  out.reserve(16 + record.json.size() + record.raw.size() + record.raw_format.size());
  out.append(kMagic, 4);
  put_chunk(&out, record.json);
  put_chunk(&out, record.raw);
  put_chunk(&out, record.raw_format);
  return out;
}

bool decode_spool_payload(std::string_view payload, CdrRecord* out, std::string* error) {
  if (payload.size() < 4 || std::memcmp(payload.data(), kMagic, 4) != 0) {
    *error = "spool payload has no CDR1 magic";
    return false;
  }
  payload.remove_prefix(4);
  if (!get_chunk(&payload, &out->json) || !get_chunk(&payload, &out->raw) || !get_chunk(&payload, &out->raw_format)) {
    *error = "spool payload is truncated";
    return false;
  }
  if (!payload.empty()) {
    *error = "spool payload has trailing bytes";
    return false;
  }
  return true;
}

}  // namespace cdrd
