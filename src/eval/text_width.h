#pragma once

#include <string_view>

namespace hiro::eval {

// An estimate of how wide Helvetica/Arial draws `text` at `font_size` px, so
// charts can keep labels apart without a font engine. Per character, as a
// share of the font size: narrow glyphs (i, l, t, f, r, j, I, punctuation,
// space) 0.34; wide ones (m, w, M, W, @, %) 0.95; other capitals 0.78; other
// ASCII (lower case, digits, symbols) 0.6; anything outside ASCII (—, λ, →)
// 1.0; bold text 10% wider. Each is at least Arial's own advance for the
// glyphs of its class (digits 0.556, = and + 0.584, capitals up to 0.778, W
// 0.944, the em dash 1.0), so the estimate errs on the wide side: a box that
// holds the estimate holds the text.
double text_width(std::string_view text, double font_size, bool bold = false);

// What a line of text occupies vertically around its baseline, as a share of
// the font size (ascenders and descenders included).
inline constexpr double text_ascent = 0.8;
inline constexpr double text_descent = 0.25;

}  // namespace hiro::eval
