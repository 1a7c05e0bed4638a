#pragma once

namespace hiro::cli {

// Lets routers with embedding features open their GGUF model through the
// engine (the policy layer does not link llama.cpp). Each file loads once per
// process and is shared by every router that names it.
void register_engine_embedder();

}  // namespace hiro::cli
