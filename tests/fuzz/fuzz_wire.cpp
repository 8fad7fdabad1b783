// Fuzz target: the bus schema decoder (wire::decode) on any bytes; what decodes must re-encode to
// a frame that decodes and re-encodes to the same bytes (bytes, not ==: a NaN field is valid).
#include "common/wire.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    const auto msg = bts::wire::decode(bytes);
    if (!msg) return 0;
    (void)bts::wire::type_name(*msg);
    const std::string frame = bts::wire::encode(*msg);
    const auto again = bts::wire::decode(frame);
    if (!again || bts::wire::encode(*again) != frame) std::abort();  // must round-trip
    return 0;
}
