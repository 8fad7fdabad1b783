// Test support: the bitshares-core ES plugin capture (tests/data/es-plugin-capture) as requests,
// and a loader that sends its bulks to an Elasticsearch (emulator) URL — real plugin documents.
#pragma once

#include "process.hpp"

#include <nlohmann/json.hpp>

#include <fstream>
#include <string>
#include <utility>
#include <vector>

namespace bts::test {

struct CapturedRequest {
    std::string method, path, body;
    std::vector<std::pair<std::string, std::string>> headers;
};

inline std::vector<CapturedRequest> load_es_capture() {
    std::ifstream in(test_data("es-plugin-capture/requests.jsonl"));
    std::vector<CapturedRequest> out;
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        auto j = nlohmann::json::parse(line);
        CapturedRequest c{j.at("method"), j.at("path"), j.at("body"), {}};
        for (auto it = j.at("headers").begin(); it != j.at("headers").end(); ++it)
            c.headers.emplace_back(it.key(), it.value().get<std::string>());
        out.push_back(std::move(c));
    }
    return out;
}

}  // namespace bts::test
