#!/usr/bin/python3
"""Synthetic Llama-architecture GGUFs at the shapes of real small models.

Random weights (seeded: the same shape and seed give the same bytes) cost what
trained ones cost per token: the same matrices, memory and quantization
kernels. No real weights can be fetched here, so benchmarks at real sizes use
these. Each shape is written as F16 by gguf-py (llama.cpp's own GGUF writer),
then quantized by llama.cpp's llama-quantize.

    bench/synthetic_gguf.py --shape qwen2.5-0.5b --quant Q4_0,Q8_0 --out ~/.cache/hiro/models

writes OUT/synthetic-qwen2.5-0.5b-F16.gguf and one file per quantization,
skipping files already there. The tokenizer is a synthetic SentencePiece-style
vocabulary of the real size (byte fallback, letters, then letter n-grams), so
the output layer has its real cost and any text tokenizes.

Needs Debian's python3-numpy (scripts/setup) and llama.cpp's gguf-py and
llama-quantize (scripts/build-llama installs both into its prefix).
"""

import argparse
import itertools
import json
import os
import string
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Shape:
    layers: int
    hidden: int
    heads: int
    kv_heads: int
    head_dim: int
    ffn: int
    vocab: int
    context: int
    rope_theta: float
    rms_eps: float


# From each model's config.json (Llama 3.2 and Qwen2.5 tie input and output
# embeddings, so there is no separate output matrix). Qwen2.5's QKV biases are
# left out: the Llama architecture has none.
SHAPES = {
    "tiny": Shape(layers=2, hidden=64, heads=4, kv_heads=2, head_dim=16, ffn=128, vocab=512,
                  context=256, rope_theta=10000.0, rms_eps=1e-5),
    "qwen2.5-0.5b": Shape(layers=24, hidden=896, heads=14, kv_heads=2, head_dim=64, ffn=4864, vocab=151936,
                          context=32768, rope_theta=1000000.0, rms_eps=1e-6),
    "llama-3.2-1b": Shape(layers=16, hidden=2048, heads=32, kv_heads=8, head_dim=64, ffn=8192, vocab=128256,
                          context=131072, rope_theta=500000.0, rms_eps=1e-5),
    "llama-3.2-3b": Shape(layers=28, hidden=3072, heads=24, kv_heads=8, head_dim=128, ffn=8192, vocab=128256,
                          context=131072, rope_theta=500000.0, rms_eps=1e-5),
}

QUANTS = ["Q4_0", "Q4_K_M", "Q8_0", "F16"]

# Weight scale of the usual initialisation (initializer_range 0.02): with
# RMSNorm before every block, activations stay of order one through any depth.
WEIGHT_STD = 0.02


def log(message):
    print(f"[synthetic-gguf] {message}", file=sys.stderr, flush=True)


def vocabulary(size):
    """Tokens, scores and types of a SentencePiece-style vocabulary."""
    import gguf

    tokens = ["<unk>", "<s>", "</s>"]
    types = [gguf.TokenType.UNKNOWN, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL]
    tokens += [f"<0x{b:02X}>" for b in range(256)]
    types += [gguf.TokenType.BYTE] * 256
    seen = set(tokens)

    def pieces():
        yield "\u2581"
        yield from string.printable[:95]
        letters = string.ascii_lowercase
        for n in itertools.count(1):
            for combo in itertools.product(letters, repeat=n):
                word = "".join(combo)
                yield "\u2581" + word
                yield word

    for piece in pieces():
        if len(tokens) == size:
            break
        if piece in seen:
            continue
        seen.add(piece)
        tokens.append(piece)
        types.append(gguf.TokenType.NORMAL)
    # Longer pieces merge later, as SentencePiece's scores make them.
    scores = [0.0] * 259 + [-float(len(t)) - i / size for i, t in enumerate(tokens[259:])]
    return tokens[:size], scores[:size], types[:size]


def tensors(shape):
    """(name, numpy shape) of every tensor, in file order."""
    h, q, kv = shape.hidden, shape.heads * shape.head_dim, shape.kv_heads * shape.head_dim
    yield "token_embd.weight", (shape.vocab, h)
    for i in range(shape.layers):
        b = f"blk.{i}."
        yield b + "attn_norm.weight", (h,)
        yield b + "attn_q.weight", (q, h)
        yield b + "attn_k.weight", (kv, h)
        yield b + "attn_v.weight", (kv, h)
        yield b + "attn_output.weight", (h, q)
        yield b + "ffn_norm.weight", (h,)
        yield b + "ffn_gate.weight", (shape.ffn, h)
        yield b + "ffn_up.weight", (shape.ffn, h)
        yield b + "ffn_down.weight", (h, shape.ffn)
    yield "output_norm.weight", (h,)


def write_f16(name, shape, seed, path):
    import gguf
    import numpy as np

    writer = gguf.GGUFWriter(str(path) + ".partial", "llama")
    writer.add_name(f"synthetic {name} (random weights, seed {seed})")
    writer.add_context_length(shape.context)
    writer.add_embedding_length(shape.hidden)
    writer.add_block_count(shape.layers)
    writer.add_feed_forward_length(shape.ffn)
    writer.add_head_count(shape.heads)
    writer.add_head_count_kv(shape.kv_heads)
    writer.add_key_length(shape.head_dim)
    writer.add_value_length(shape.head_dim)
    writer.add_rope_dimension_count(shape.head_dim)
    writer.add_rope_freq_base(shape.rope_theta)
    writer.add_layer_norm_rms_eps(shape.rms_eps)
    writer.add_vocab_size(shape.vocab)
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
    tokens, scores, types = vocabulary(shape.vocab)
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_unk_token_id(0)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_add_bos_token(True)
    writer.add_add_eos_token(False)

    layout = list(tensors(shape))
    for tensor_name, dims in layout:
        dtype = np.float32 if len(dims) == 1 else np.float16  # norms stay F32, as llama.cpp's converters write them
        writer.add_tensor_info(tensor_name, dims, np.dtype(dtype), int(np.prod(dims)) * np.dtype(dtype).itemsize)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    for index, (tensor_name, dims) in enumerate(layout):
        if len(dims) == 1:
            data = np.ones(dims, dtype=np.float32)
        else:
            # One stream per tensor: its bytes do not depend on the others.
            rng = np.random.default_rng([seed, index])
            data = (rng.standard_normal(dims, dtype=np.float32) * WEIGHT_STD).astype(np.float16)
        writer.write_tensor_data(data)
        if index % 20 == 0:
            log(f"{path.name}: tensor {index + 1}/{len(layout)}")
    writer.close()
    os.replace(str(path) + ".partial", path)
    return sum(int(np.prod(dims)) for _, dims in layout)


def quantize(quantizer, source, target, quant, threads):
    partial = str(target) + ".partial"
    command = [quantizer, str(source), partial, quant, str(threads)]
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if result.returncode != 0:
        sys.exit(f"llama-quantize failed ({' '.join(command)}):\n{result.stdout[-2000:]}")
    os.replace(partial, target)


def default_prefix():
    build_llama = Path(__file__).resolve().parent.parent / "scripts" / "build-llama"
    return subprocess.run([str(build_llama)], stdout=subprocess.PIPE, check=True, text=True).stdout.strip()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="shapes: " + ", ".join(SHAPES) + "; quantizations: " + ", ".join(QUANTS))
    parser.add_argument("--shape", action="append", required=True, help="a shape to write (repeatable)")
    parser.add_argument("--quant", default="Q4_0,Q4_K_M,Q8_0,F16", help="comma-separated quantizations (default: %(default)s)")
    parser.add_argument("--out", default=os.path.expanduser("~/.cache/hiro/models"), help="output folder (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=2503, help="weight seed (default: %(default)s)")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="llama-quantize threads")
    parser.add_argument("--llama-prefix", help="llama.cpp install prefix (default: scripts/build-llama's)")
    parser.add_argument("--gguf-py", help="gguf-py folder (default: PREFIX/share/gguf-py)")
    parser.add_argument("--llama-quantize", help="llama-quantize binary (default: PREFIX/bin/llama-quantize)")
    args = parser.parse_args()

    quants = [q for q in args.quant.split(",") if q]
    for q in quants:
        if q not in QUANTS:
            sys.exit(f"unknown quantization {q!r}: use one of {', '.join(QUANTS)}")
    for s in args.shape:
        if s not in SHAPES:
            sys.exit(f"unknown shape {s!r}: use one of {', '.join(SHAPES)}")
    prefix = args.llama_prefix or (None if args.gguf_py and args.llama_quantize else default_prefix())
    sys.path.insert(0, args.gguf_py or os.path.join(prefix, "share", "gguf-py"))
    quantizer = args.llama_quantize or os.path.join(prefix, "bin", "llama-quantize")

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    report = []
    for name in args.shape:
        f16 = out / f"synthetic-{name}-F16.gguf"
        if not f16.exists():
            log(f"writing {f16}")
            start = time.monotonic()
            parameters = write_f16(name, SHAPES[name], args.seed, f16)
            report.append({"file": str(f16), "parameters": parameters, "bytes": f16.stat().st_size,
                           "seconds": round(time.monotonic() - start, 1)})
        for quant in quants:
            target = out / f"synthetic-{name}-{quant}.gguf"
            if quant == "F16" or target.exists():
                continue
            log(f"quantizing {target.name}")
            start = time.monotonic()
            quantize(quantizer, f16, target, quant, args.threads)
            report.append({"file": str(target), "bytes": target.stat().st_size, "seconds": round(time.monotonic() - start, 1)})
    for entry in report:
        print(json.dumps(entry))


if __name__ == "__main__":
    main()
