// The on-disk record frame: u32 length | u32 crc32 (zlib's; computed by ISA-L) of the payload |
// payload, all integers little-endian so segment files move between hosts.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace cdrd::spool {

constexpr size_t kFrameHeaderBytes = 8;
// No CDR comes near this; a larger length is a torn or corrupt header, and
// trusting it would make recovery allocate or skip gigabytes.
constexpr uint32_t kMaxPayloadBytes = 64u << 20;

using FrameHeader = std::array<unsigned char, kFrameHeaderBytes>;

struct DecodedFrameHeader {
  uint32_t length = 0;
  uint32_t crc = 0;
};

uint32_t payload_crc(const char* data, size_t size);
FrameHeader encode_frame_header(std::string_view payload);
DecodedFrameHeader decode_frame_header(const unsigned char* bytes);

void put_u32_le(uint32_t value, unsigned char* out);
void put_u64_le(uint64_t value, unsigned char* out);
uint32_t get_u32_le(const unsigned char* in);
uint64_t get_u64_le(const unsigned char* in);

}  // namespace cdrd::spool
