#include "eval/text_width.h"

namespace hiro::eval {
namespace {

double ascii_width(char c) {
    static constexpr std::string_view narrow = "iltfrjI.,:;'|!()[] ";
    static constexpr std::string_view wide = "mwMW@%";
    if (narrow.find(c) != std::string_view::npos) return 0.34;
    if (wide.find(c) != std::string_view::npos) return 0.95;
    if (c >= 'A' && c <= 'Z') return 0.78;
    return 0.6;
}

}  // namespace

double text_width(std::string_view text, double font_size, bool bold) {
    double ems = 0;
    for (char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte < 0x80) {
            ems += ascii_width(c);
        } else if ((byte & 0xC0) != 0x80) {  // the first byte of a multi-byte character; continuation bytes add nothing
            ems += 1.0;
        }
    }
    return ems * font_size * (bold ? 1.1 : 1.0);
}

}  // namespace hiro::eval
