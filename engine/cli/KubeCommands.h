#pragma once
// The commands that act on a cluster outside a run: `down NAMESPACE`
// (remove what a run left with --keep) and `recover RESULTS_DIR` (replay
// the undos a crashed run left pending in its journal).
#include <string>

#include "drivers/kube/KubeConfig.h"

namespace kapture {

int cmd_down(const std::string& ns, const KubeConfigOptions& access, int timeout_s);
int cmd_recover(const std::string& results_dir, const KubeConfigOptions& access, int timeout_s);

}  // namespace kapture
