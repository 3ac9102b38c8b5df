#include "cli/KubeCommands.h"

#include <cstdio>
#include <filesystem>

#include "common/Redact.h"
#include "drivers/kube/KubeClient.h"
#include "drivers/kube/KubeUndo.h"
#include "slo/Verdict.h"
#include "targets/KubernetesTarget.h"
#include "timeline/UndoJournal.h"

namespace kapture {

namespace {

Result<std::unique_ptr<KubeClient>> connect(const KubeConfigOptions& options) {
  auto access = resolve_kube_access(options);
  if (!access) return access.error();
  return KubeClient::create(*access);
}

int exit_code(const Error& e) { return e.kind == ErrorKind::Usage ? kExitUsage : e.kind == ErrorKind::Unreachable ? kExitUnreachable : kExitFailed; }

}  // namespace

int cmd_down(const std::string& ns, const KubeConfigOptions& access, int timeout_s) {
  auto client = connect(access);
  if (!client) {
    std::fprintf(stderr, "%s\n", redact(client.error().describe()).c_str());
    return exit_code(client.error());
  }
  std::string report;
  if (auto err = tear_down_namespace(**client, ns, std::chrono::seconds(timeout_s), report)) {
    std::fprintf(stderr, "down %s: %s\n", ns.c_str(), redact(err->describe()).c_str());
    return kExitUnreachable;
  }
  std::printf("%s\n", report.c_str());
  return 0;
}

int cmd_recover(const std::string& dir, const KubeConfigOptions& access, int timeout_s) {
  std::string path = (std::filesystem::path(dir) / "undo-journal.jsonl").string();
  auto pending = UndoJournal::read_pending(path);
  if (!pending) {
    std::fprintf(stderr, "%s\n", redact(pending.error().describe()).c_str());
    return kExitUsage;
  }
  if (pending->empty()) {
    std::printf("%s: nothing pending: every undo of that run was done\n", path.c_str());
    return 0;
  }
  std::unique_ptr<KubeClient> client;
  int failed = 0, done = 0;
  for (const auto& e : *pending) {
    if (!is_kube_undo(e.replay)) {
      // Local brokers and stores died with the engine that started them.
      std::printf("skip   #%d %s (not replayable: it undid a change to a process of the crashed run)\n", e.id, e.description.c_str());
      continue;
    }
    if (!client) {
      auto c = connect(access);
      if (!c) {
        std::fprintf(stderr, "%s\n", redact(c.error().describe()).c_str());
        return exit_code(c.error());
      }
      client = std::move(*c);
    }
    std::string server = e.replay.value("server", "");
    if (!server.empty() && server != client->endpoint().server) {
      std::fprintf(stderr, "recover: the journal's undos are for %s, but the kubeconfig points at %s (choose the context with --context)\n",
                   server.c_str(), client->endpoint().server.c_str());
      return kExitUsage;
    }
    Status st = replay_kube_undo(*client, e.replay, std::chrono::seconds(timeout_s));
    UndoJournal::append_outcome(path, e, st);
    if (st) {
      ++failed;
      std::printf("FAILED #%d %s: %s\n", e.id, e.description.c_str(), st->message.c_str());
    } else {
      ++done;
      std::printf("done   #%d %s\n", e.id, e.description.c_str());
    }
  }
  std::printf("recover: %d undone, %d failed\n", done, failed);
  return failed ? kExitFailed : 0;
}

}  // namespace kapture
