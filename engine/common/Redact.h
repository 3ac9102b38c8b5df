#pragma once
// Keeping secrets out of everything the engine writes: results files, the
// plan, stdout and stderr. Two nets, applied where text is written rather
// than where it is made, because a library's error message (librdkafka,
// libpq, libcurl, a kube exec plugin) can quote a secret in any shape:
//
//   - by name: values of secret-looking keys (sasl.password, ssl.key.pem,
//     Authorization, ...) in JSON objects and in `key=value` / `Name: value`
//     text, and the password of a URL's userinfo (scheme://user:pw@host);
//   - by value: secrets met while setting up (a property's password, a URL's
//     password, a bearer token, a client key) are registered and replaced
//     wherever they turn up later, whatever surrounds them.
#include <map>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace kapture {

inline constexpr std::string_view kRedacted = "***";

// Whether a property, header, field or parameter name marks its value as a
// secret: *password*, *secret*, *token*, *credential*, sasl.jaas.config,
// ssl.key.pem, client-key-data, Authorization, Cookie, *api-key*, ...
bool is_secret_name(std::string_view name);

// Remembers a secret value to replace wherever it appears. Values shorter
// than 4 characters are not registered: replacing "ab" in every message
// would garble the output and protect nothing worth protecting.
void register_secret(std::string_view value);
// The values of the secret-named keys of a property map (Kafka, headers).
void register_secret_properties(const std::map<std::string, std::string>& properties);
// The password of a URL's userinfo, as written and %-decoded, and of any
// secret-named query parameter (?password=...).
void register_url_secrets(std::string_view url);

// Text with every registered secret, URL password, secret `key=value` value
// and secret header value replaced by "***".
std::string redact(std::string_view text);
// The same over a JSON value: every string redacted, and the string values
// of secret-named keys replaced whole.
nlohmann::json redact_json(const nlohmann::json& value);
// A property map with the values of its secret-named keys replaced.
std::map<std::string, std::string> redact_properties(const std::map<std::string, std::string>& properties);

// Tests only: forget every registered secret.
void clear_registered_secrets();

}  // namespace kapture
