#include "server/limit_store.h"

#include <fmt/format.h>

#include <chrono>

namespace hiro::server {

Periods periods_at(std::int64_t unix_ms) {
    using namespace std::chrono;
    const sys_days today = floor<days>(sys_time<milliseconds>(milliseconds(unix_ms)));
    const year_month_day ymd(today);
    const sys_days next_month = sys_days((ymd.year() / ymd.month() + months(1)) / 1);
    Periods p;
    p.now_ms = unix_ms;
    p.day = fmt::format("{:04}-{:02}-{:02}", int(ymd.year()), unsigned(ymd.month()), unsigned(ymd.day()));
    p.month = p.day.substr(0, 7);
    p.day_ends_ms = duration_cast<milliseconds>((today + days(1)).time_since_epoch()).count();
    p.month_ends_ms = duration_cast<milliseconds>(next_month.time_since_epoch()).count();
    return p;
}

Periods periods_now() {
    using namespace std::chrono;
    return periods_at(duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

}  // namespace hiro::server
