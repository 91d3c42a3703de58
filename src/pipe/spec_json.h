// JSON form of peers and pipes, for the catalog (which stores a pipe's spec and
// reloads it) and the REST API.
//
//  - PeerSpec::password is never written; from_json leaves it empty (resolve it
//    again from password_env with resolve_password, config.h).
//  - Durations are strings as users write them ("15s", "5m", format_duration).
//  - from_json accepts missing optional fields (defaults of spec.h), ignores
//    unknown fields (forward compatibility), and throws Error(ErrorKind::Config)
//    naming the field for a wrong type or value.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "core/spec.h"

namespace ferry {

void to_json(nlohmann::json& j, const PeerSpec& p);
void from_json(const nlohmann::json& j, PeerSpec& p);

void to_json(nlohmann::json& j, const TableMapping& t);
void from_json(const nlohmann::json& j, TableMapping& t);

void to_json(nlohmann::json& j, const PipeSettings& s);
void from_json(const nlohmann::json& j, PipeSettings& s);

void to_json(nlohmann::json& j, const PipeSpec& p);
void from_json(const nlohmann::json& j, PipeSpec& p);

// Convenience for the catalog's spec_json columns.
std::string pipe_spec_to_json(const PipeSpec& p);
PipeSpec pipe_spec_from_json(const std::string& text);  // throws Error(Config) on bad JSON
std::string peer_spec_to_json(const PeerSpec& p);
PeerSpec peer_spec_from_json(const std::string& text);  // throws Error(Config) on bad JSON

}  // namespace ferry
