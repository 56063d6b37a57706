#include "daemon/spool/spool_frame.h"

#include <isa-l/crc.h>

namespace cdrd::spool {

uint32_t payload_crc(const char* data, size_t size) {
  // zlib's crc32(0, data, size), bit for bit (tests/spool checks it against zlib).
  return crc32_gzip_refl(0, reinterpret_cast<const unsigned char*>(data), size);
}

FrameHeader encode_frame_header(std::string_view payload) {
  FrameHeader header;
  put_u32_le(static_cast<uint32_t>(payload.size()), header.data());
  put_u32_le(payload_crc(payload.data(), payload.size()), header.data() + 4);
  return header;
}

DecodedFrameHeader decode_frame_header(const unsigned char* bytes) {
  return DecodedFrameHeader{get_u32_le(bytes), get_u32_le(bytes + 4)};
}

void put_u32_le(uint32_t value, unsigned char* out) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<unsigned char>(value >> (8 * i));
}

void put_u64_le(uint64_t value, unsigned char* out) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<unsigned char>(value >> (8 * i));
}

uint32_t get_u32_le(const unsigned char* in) {
  uint32_t value = 0;
  for (int i = 3; i >= 0; --i) value = (value << 8) | in[i];
  return value;
}

uint64_t get_u64_le(const unsigned char* in) {
  uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | in[i];
  return value;
}

}  // namespace cdrd::spool
