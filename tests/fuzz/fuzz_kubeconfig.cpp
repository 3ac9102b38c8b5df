// libFuzzer: the kubeconfig reader (drivers/kube/KubeconfigFile.h), which
// takes a file from the user's machine as client-go would, then merges the
// result as KUBECONFIG=a:b does. Parsing resolves paths but reads no file.
#include <cstddef>
#include <cstdint>
#include <string>

#include "drivers/kube/KubeconfigFile.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto parsed = kapture::parse_kubeconfig(text, "/fuzz/kube/config");
  if (!parsed) {
    (void)parsed.error().describe();
    return 0;
  }
  kapture::Kubeconfig merged;
  kapture::merge_kubeconfig(merged, *parsed);
  kapture::merge_kubeconfig(merged, *parsed);
  // The first file to name an entry wins whole: merging a file into itself
  // changes nothing but the file list.
  if (merged.clusters.size() != parsed->clusters.size() || merged.users.size() != parsed->users.size() ||
      merged.contexts.size() != parsed->contexts.size() || merged.current_context != parsed->current_context)
    __builtin_trap();
  return 0;
}
