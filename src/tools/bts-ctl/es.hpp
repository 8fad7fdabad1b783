// bts-ctl es | kibana: install our index templates and ILM policies into Elasticsearch and check a
// cluster (version, health, disk watermarks, templates present); import Kibana saved objects.
//
//   bts-ctl es setup URL      installs config/elasticsearch/ilm/*.json (PUT _ilm/policy/<stem>) and
//                             config/elasticsearch/templates/*.json (PUT _index_template/<stem>),
//                             then runs the checks below
//   bts-ctl es check URL      version ≥ 7.8 (composable templates), health not red, every data node
//                             below the high disk watermark, every template and policy present
//   bts-ctl kibana import URL POSTs config/kibana/*.ndjson to URL/api/saved_objects/_import
//
// Credentials never come from the URL (it is printed): --es-user with --es-password-file, or
// --es-api-key-file. Exit codes as bts-ctl's: 0 fine; 1 a check failed or the server refused;
// 2 usage or a bad file; 3 the server cannot be reached.
#pragma once

#include <string>
#include <vector>

namespace bts::util {
class CommandLine;
}

namespace bts::ctl {

// Declares the options these commands use (call before cli.parse()).
void add_es_options(util::CommandLine& cli);
// True for the commands this file handles ("es", "kibana").
bool is_es_command(const std::string& command);
// Runs one of them; returns the exit code. Never throws.
int run_es_command(const util::CommandLine& cli, const std::string& command,
                   const std::vector<std::string>& args);

}  // namespace bts::ctl
