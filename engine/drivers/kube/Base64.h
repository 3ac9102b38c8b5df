#pragma once
// Standard base64 (RFC 4648, '+' and '/'), as kubeconfig's *-data fields and
// KUBERNETES_EXEC_INFO's certificate-authority-data use it.
#include <string>
#include <string_view>

#include "common/Error.h"

namespace kapture {

// Decodes `text`, skipping whitespace: Go's decoder skips line breaks, and a
// long value folded over several lines of YAML arrives with spaces in it.
// Padding may be left off. The error says where the input went wrong but
// never quotes it: these fields hold keys.
Result<std::string> decode_base64(std::string_view text);

std::string encode_base64(std::string_view bytes);

}  // namespace kapture
