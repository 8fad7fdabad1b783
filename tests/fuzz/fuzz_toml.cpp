// Fuzz target: TOML configs and scenarios: the parser, a beacon run config and a scenario (the
// two richest readers), each with its validate(). Bad input must be a ConfigError, nothing else.
#include "actors/beacon/run_config.hpp"
#include "broker/scenario.hpp"
#include "common/util/config.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        const auto doc = bts::util::TomlDoc::parse(text, "fuzz.toml");
        try {
            (void)bts::util::build_config<bts::beacon::RunConfig>(doc);
        } catch (const bts::util::ConfigError&) {
        }
    } catch (const bts::util::ConfigError&) {
    }
    try {
        (void)bts::broker::Scenario::parse(text, "fuzz.toml");
    } catch (const bts::util::ConfigError&) {
    }
    return 0;
}
