// The frame a delivery hands out: shared bytes already, or bytes borrowed from the datagram
// being received, shared (copied once) only when someone here receives them. Every node sees
// every message of the cluster, and most are for nobody it holds. Lives only as long as the
// delivery call that made it.
#pragma once
#include <memory>
#include <string>
#include <string_view>

#include "hub/Recipient.hpp"

namespace chat::hub {

class FrameSource {
public:
    // Implicit, so that a shared frame is passed wherever a source is asked for.
    FrameSource(SharedFrame frame) : frame_(std::move(frame)) {}  // NOLINT(google-explicit-constructor)
    explicit FrameSource(std::string_view borrowed) : borrowed_(borrowed) {}

    const SharedFrame& get() const {
        if (!frame_) frame_ = std::make_shared<const std::string>(borrowed_);
        return frame_;
    }

private:
    mutable SharedFrame frame_;
    std::string_view borrowed_;
};

}  // namespace chat::hub
