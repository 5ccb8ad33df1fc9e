"""`soldsight vector PHOTO`: print a photo's embedding as a JSON list, exactly as indexing computes it."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from soldsight.embed.embedder import MODELS, POOLINGS, WeightsUnavailable
from soldsight.embed.preprocess import ImageRejected

NAME = "vector"
HELP = ("Print the L2-normalised embedding of a photo as a JSON list of floats (same preprocessing and "
        "model as `soldsight embed`), to paste into SQL, e.g. array_cosine_similarity(vector, [...]::FLOAT[1280]). "
        "Lite0 runs on LiteRT once converted, else in numpy (no TensorFlow start-up): the same values to within 1e-6.")


def add_arguments(parser) -> None:
    parser.add_argument("photo", metavar="PHOTO", help="image file (JPEG, PNG, WEBP, ...)")
    parser.add_argument("--model", choices=MODELS, help="backbone (default: SOLDSIGHT_MODEL, lite0)")
    parser.add_argument("--pooling", choices=POOLINGS, default="avg", help="avg (default) or gem (p=3)")
    parser.add_argument("--with-id", action="store_true",
                        help='print {"model_id": ..., "vector": [...]} instead of the bare list')


def run(args, settings) -> int:
    from soldsight.embed import load_query_embedder

    path = Path(args.photo)
    if not path.is_file():
        print(f"soldsight vector: no such file: {path}", file=sys.stderr)
        return 2
    try:
        # One photo: a new process answers in ~1 s on LiteRT or numpy instead of ~8 s of TensorFlow start-up.
        embedder = load_query_embedder(settings, 1, args.model, args.pooling)
        image = embedder.preprocess(path)
    except ImageRejected as exc:
        print(f"soldsight vector: {path}: {exc}", file=sys.stderr)
        return 1
    except WeightsUnavailable as exc:
        print(f"soldsight vector: {exc}", file=sys.stderr)
        return 2
    vector = [float(x) for x in embedder.embed_batch(image[None])[0]]  # float32 values, printed exactly
    print(json.dumps({"model_id": embedder.model_id, "vector": vector} if args.with_id else vector))
    return 0
