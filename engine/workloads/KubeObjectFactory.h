#pragma once
// What the Kubernetes API load workloads (kube-churn, kube-lifecycle) send:
// objects of one resource type shaped as `object:` says (payload size, name
// length, extra fields), labelled with the run and the workload, and
// annotated with the client's send time (kapture.io/sent-us, Unix µs) that a
// kube-watch turns into notification latency. Pure: no network.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "drivers/kube/KubeClient.h"
#include "scenario/Scenario.h"

namespace kapture {

inline constexpr const char* kKubeRunLabel = "kapture.io/run";
inline constexpr const char* kKubeWorkloadLabel = "kapture.io/workload";
inline constexpr const char* kKubeSentAnnotation = "kapture.io/sent-us";
inline constexpr const char* kKubePaddingAnnotation = "kapture.io/padding";
inline constexpr const char* kKubeUpdateAnnotation = "kapture.io/update";

// A workload name as the start of object names: lower case, [a-z0-9-] (other
// characters become '-'), starting and ending with a letter or digit; "k"
// when nothing is left.
std::string kube_name_prefix(const std::string& workload);

// A label value (at most 63 characters of [A-Za-z0-9-_.], starting and
// ending with a letter or digit) for any text.
std::string kube_label_value(const std::string& text);

// Object `seq` of a workload: "<prefix>-<seq>", and with name_length > 0
// exactly that long when it can be: zeros between the dash and the number
// fill it up; a long prefix is cut (the number is kept whole); when not even
// the number fits with a one-character prefix, the number alone (zero
// padded), and when that does not fit either, the number in letters (a..z,
// base 26, fixed width). Different seqs always give different names.
std::string kube_object_name(const std::string& workload, int64_t seq, int name_length);

// The resource as metrics and the csv name it: "configmaps", or
// "widgets.example.com" for a resource of a group.
std::string kube_resource_label(const KubeResourceType& type);

class KubeObjectFactory {
 public:
  enum class PayloadPlace { ConfigMapData, SecretStringData, Annotation };

  // `type` as discovery found it; `ns` where the objects go (ignored for
  // cluster-scoped types).
  KubeObjectFactory(const KubeObjectShape& shape, KubeResourceType type, std::string ns, std::string workload, std::string run_label);

  const KubeResourceType& type() const { return type_; }
  const std::string& namespace_name() const { return namespace_; }
  const std::string& resource_label() const { return resource_label_; }
  PayloadPlace payload_place() const { return place_; }
  KubeObjectRef collection() const { return KubeObjectRef{type_, namespace_, ""}; }
  KubeObjectRef ref(const std::string& name) const { return KubeObjectRef{type_, namespace_, name}; }
  std::string name(int64_t seq) const { return kube_object_name(workload_, seq, name_length_); }
  // "kapture.io/run=RUN,kapture.io/workload=NAME": this workload's objects.
  std::string selector() const;

  // The whole object named `name`, its send time not stamped yet (stamp()
  // it just before sending, so the copy of a large payload is not counted).
  nlohmann::json object(const std::string& name) const;
  // Sets kapture.io/sent-us on an object or a patch.
  static void stamp(nlohmann::json& object_or_patch, int64_t sent_wall_us);
  // A merge or strategic merge patch changing the object: its send time and
  // kapture.io/update = `update`.
  static nlohmann::json update_patch(int64_t update);
  // For server-side apply: the whole object with kapture.io/update = `update`.
  nlohmann::json apply_object(const std::string& name, int64_t update) const;

 private:
  KubeResourceType type_;
  std::string namespace_;
  std::string workload_;
  int name_length_ = 0;
  std::string resource_label_;
  PayloadPlace place_ = PayloadPlace::Annotation;
  nlohmann::json template_;  // everything but metadata.name and the send time
};

}  // namespace kapture
