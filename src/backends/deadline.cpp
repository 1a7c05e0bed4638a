#include "backends/deadline.h"

#include <optional>
#include <vector>

#include <boost/asio/steady_timer.hpp>

namespace hiro::backends {

namespace asio = boost::asio;

// Every Deadline of one io_context, and the tick that checks them. The tick
// runs while any is armed (so that an idle context has no work and its run()
// returns); being the earliest timer of its context, it also spares the other
// timers' re-arming of the timerfd.
class Deadlines final : public asio::execution_context::service {
public:
    static inline asio::execution_context::id id;
    explicit Deadlines(asio::execution_context& context) : asio::execution_context::service(context) {}

    void add(Deadline& d) {
        d.slot_ = entries_.size();
        entries_.push_back(&d);
    }

    void ticking(const asio::any_io_executor& ex) {
        if (tick_ || shut_down_) return;
        tick_.emplace(ex);
        schedule();
    }

    void remove(Deadline& d) {
        Deadline* last = entries_.back();
        entries_[d.slot_] = last;
        last->slot_ = d.slot_;
        entries_.pop_back();
    }

private:
    void shutdown() override {
        shut_down_ = true;
        tick_.reset();
    }

    void schedule() {
        tick_->expires_after(std::chrono::milliseconds(100));
        tick_->async_wait([this](boost::system::error_code ec) {
            if (ec) return;
            if (check()) {
                schedule();
            } else {
                tick_.reset();
            }
        });
    }

    // Closes the sockets whose time is up; whether any deadline is still armed.
    bool check() {
        const auto now = std::chrono::steady_clock::now();
        bool armed = false;
        for (Deadline* d : entries_) {
            if (!d->armed_) continue;
            if (d->at_ > now) {
                armed = true;
                continue;
            }
            d->armed_ = false;
            d->expired_ = true;
            boost::system::error_code ignored;
            d->socket_.close(ignored);
        }
        return armed;
    }

    std::vector<Deadline*> entries_;
    std::optional<asio::steady_timer> tick_;
    bool shut_down_ = false;
};

Deadline::Deadline(asio::ip::tcp::socket& socket)
    : socket_(socket), owner_(asio::use_service<Deadlines>(asio::query(socket.get_executor(), asio::execution::context))) {
    owner_.add(*this);
}

Deadline::~Deadline() { owner_.remove(*this); }

void Deadline::arm(std::chrono::steady_clock::duration after) {
    at_ = std::chrono::steady_clock::now() + after;
    armed_ = true;
    owner_.ticking(socket_.get_executor());
}

}  // namespace hiro::backends
