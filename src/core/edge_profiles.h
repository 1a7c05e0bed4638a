#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace hiro::core {

// A class of end device: how fast it computes, what it draws, what it holds.
struct DeviceProfile {
    std::string name, description, source;
    double macs_per_second = 0;   // effective multiply-accumulates per second for int8/fp32 CNN kernels
    double overhead_ms = 0;       // fixed cost of one inference call (runtime, memory copies)
    double active_power_w = 0;    // while computing
    double idle_power_w = 0;      // while waiting for a remote answer
    double memory_bytes = 0;      // what a model's weights may occupy
    double hourly_cost_usd = 0;   // owning and powering it for an hour (0 = not given)
    // Measured time per inference of named models on this device (`compute_ms:
    // {tiny: 4.2}`): plugs in real measurements instead of the MAC-rate estimate.
    std::map<std::string, double, std::less<>> measured_ms;

    double compute_ms(std::string_view model, double macs) const {
        auto it = measured_ms.find(model);
        return it != measured_ms.end() ? it->second : overhead_ms + macs / macs_per_second * 1e3;
    }
};

// A radio link from the device to the edge server.
struct LinkProfile {
    std::string name, description, source;
    double uplink_bps = 0;
    double rtt_ms = 0;
    double tx_joule_per_byte = 0;  // device radio energy per byte sent
    double loss = 0;               // packet loss probability; a lost transfer is sent again

    // Expected time to send `bytes` and get a small answer back, retransmissions included.
    double transfer_ms(double bytes) const { return (rtt_ms + bytes * 8.0 / uplink_bps * 1e3) / (1.0 - loss); }
    double transfer_joule(double bytes) const { return bytes * tx_joule_per_byte / (1.0 - loss); }
};

// A shared edge server: its speed relative to the machine hiro measured on.
struct ServerProfile {
    std::string name, description, source;
    int workers = 1;             // cores or GPUs serving in parallel
    int max_batch = 1;           // requests one worker takes at once
    double batch_speedup = 1.0;  // a batch of b costs (1 + (b-1)/batch_speedup) single inferences
    double speed_factor = 1.0;   // service time = measured time / speed_factor
    double decode_tokens_per_second = 0;   // for language models: from `hiro bench`
    double prefill_tokens_per_second = 0;
    std::string discipline = "fifo";       // fifo or lifo
};

struct CloudProfile {
    std::string name, source;
    double rtt_ms = 0;
    double usd_per_request = 0;
};

// A device talking over a link: one row of `hiro hi`'s report.
struct Scenario {
    std::string device, link;
};

struct EdgeProfiles {
    std::string source;  // the file, for messages
    std::map<std::string, DeviceProfile, std::less<>> devices;
    std::map<std::string, LinkProfile, std::less<>> links;
    std::map<std::string, ServerProfile, std::less<>> servers;
    std::map<std::string, CloudProfile, std::less<>> clouds;
    std::vector<Scenario> scenarios;

    // Look-ups that throw a not_found Error listing the names the file has.
    const DeviceProfile& device(std::string_view name) const;
    const LinkProfile& link(std::string_view name) const;
    const ServerProfile& server(std::string_view name) const;
    const CloudProfile& cloud(std::string_view name) const;
};

// Reads a YAML profile file (see config/edge/profiles.yaml). Every entry must
// name its `source`; a missing or non-positive figure is an invalid_input
// Error naming the entry and the field.
EdgeProfiles load_edge_profiles(const std::string& path);

}  // namespace hiro::core
