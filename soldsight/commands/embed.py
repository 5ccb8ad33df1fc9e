"""`soldsight embed`: embed every downloaded photo that has no vector yet for the current model."""
from __future__ import annotations

import sys

from soldsight.commands.arguments import at_least
from soldsight.embed.embedder import MODELS, POOLINGS, WeightsUnavailable
from soldsight.embed.pending import ImagesTableMissing

NAME = "embed"
HELP = ("Embed downloaded photos with a pretrained CNN (default EfficientNet-Lite0, offline) into the "
        "embeddings table; photos already embedded by the same model are skipped.")


def add_arguments(parser) -> None:
    parser.add_argument("--model", choices=MODELS, help="backbone (default: SOLDSIGHT_MODEL, lite0)")
    parser.add_argument("--pooling", choices=POOLINGS, default="avg",
                        help="how the 7x7 head activations become one vector: avg (default) or gem (p=3); "
                             "part of the model id")
    parser.add_argument("--limit", type=at_least(0), metavar="N", help="embed at most N photos this run")
    parser.add_argument("--retry-failed", action="store_true",
                        help="try again photos whose previous attempt failed (corrupt, missing...)")
    parser.add_argument("--chunk", type=at_least(1), default=512, metavar="N",
                        help="photos per lake file and warehouse load (a killed run keeps finished chunks)")
    parser.add_argument("--workers", type=at_least(1), default=2, metavar="N", help="decoding threads (default 2)")
    parser.add_argument("--quiet", action="store_true", help="print only the summary")


def run(args, settings) -> int:
    from soldsight.embed import load_batch_embedder
    from soldsight.embed.pending import embed_pending

    try:
        embedder, _ = load_batch_embedder(settings, args.model, args.pooling)
        log = None if args.quiet else (lambda message: print(message, flush=True))
        report = embed_pending(settings, embedder, limit=args.limit, retry_failed=args.retry_failed,
                               chunk_size=args.chunk, workers=args.workers, log=log)
    except (WeightsUnavailable, ImagesTableMissing) as exc:
        print(f"soldsight embed: {exc}", file=sys.stderr)
        return 2
    print(f"{report.model_id}: {report.embedded} embedded, {report.failed} failed, of {report.pending} pending, "
          f"in {report.seconds:.1f}s ({report.rate:.0f} photos/s)")
    for reason, count in sorted(report.errors.items(), key=lambda kv: -kv[1]):
        print(f"  failed: {count:>6}  {reason}")
    return 0
